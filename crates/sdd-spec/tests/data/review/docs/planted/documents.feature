@domain:documents
Feature: Documents

  Background:
    Given I am signed in as Carol
    And I own the folder "Reports"

  Scenario: Upload a report
    When I upload report.pdf of 2MB to "Reports"
    Then the document is stored
    And I receive 201

  Scenario: Upload a report again
    When I upload report.pdf of 2MB to "Reports"
    Then nothing is stored

  Scenario: Upload without a token
    When a script uploads a file without a token
    Then the upload succeeds

  Scenario: Hammer the API
    When I send 250 requests in one minute to list documents
    Then all requests succeed

  Scenario: Big upload
    When I upload a file of 80MB
    Then the file is stored

  Scenario: Delete someone else's file
    When I delete a document owned by another user
    Then the document is deleted

  Scenario: Slow thumbnail
    When I upload photo.png
    Then a thumbnail is generated within 1 minute
