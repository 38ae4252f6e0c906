@domain:documents
Feature: Documents

  Background:
    Given I am signed in as Carol
    And I own the folder "Reports"

  Scenario: Upload a report
    When I upload report.pdf of 2MB to "Reports"
    Then the document is stored
    And I receive 201

  Scenario: Upload a report keeps one copy
    When I upload report.pdf of 2MB to "Reports"
    Then no duplicate copy is kept
    And no other user's folder is changed

  Scenario: Upload a report twice
    Given report.pdf already exists in "Reports"
    When I upload report.pdf of 2MB to "Reports" again
    Then nothing is stored
    And I receive 409

  Scenario: Upload without a token
    When a script uploads a file without a token
    Then the upload is rejected with 401

  Scenario: Open a public share link
    When an anonymous visitor opens a public share link without a token
    Then the document is shown

  Scenario: Team busy morning
    Given 40 different users are signed in
    When each user sends 50 requests in one minute to list documents
    Then all requests succeed

  Scenario: Hammer the API
    When I send 250 requests in one minute to list documents
    Then requests beyond 60 receive 429

  Scenario: Big upload
    When I upload a file of 80MB
    Then the upload is refused with 413

  Scenario: Delete someone else's file
    When I delete a document owned by another user
    Then I receive 403 and the document is not deleted

  Scenario: Read a shared file
    Given Dave shared plan.docx with me
    When I open a document owned by another user that was shared with me
    Then the document is shown

  Scenario: List my documents
    When I list my documents
    Then only my documents are returned and no other user's documents are listed

  Scenario: Empty folder
    Given the folder "Archive" is empty
    When I list the folder "Archive"
    Then an empty list is returned

  Scenario: Fast thumbnail
    When I upload photo.png
    Then a thumbnail is generated within 5 seconds
