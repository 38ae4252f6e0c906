@domain:enrolment
Feature: Enrolment

  Background:
    Given a second-year student signed in through the university portal
    And the module CS204 has 3 places left

  Scenario: Enrol on a module with places
    When the student enrols on CS204
    Then the student gets enrolled on CS204
    And a confirmation is shown

  Scenario: Enrol on a module with places sends one e-mail
    When the student enrols on CS204
    Then no duplicate enrolment should be created
    And no waitlist offer is sent
    But the student is not charged a late-registration fee

  Scenario: Enrol on a full module
    Given the module CS204 has no places left
    When the student enrols on CS204
    Then the student is not enrolled on CS204
    And the request is turned down with HTTP 409

  Scenario: Enrol from an unauthenticated browser
    When a visitor who has not signed in enrols on CS204
    Then HTTP 401 is returned
    And the visitor must not be enrolled

  Scenario: Browse the catalogue anonymously
    When a visitor who has not signed in calls GET /catalogue
    Then the module list is shown

  Scenario: Results day
    Given 10 000 students are signed in
    When each student submits 40 requests within an hour to check results
    Then all requests succeed

  Scenario: Scripted enrolment storm
    When one student submits 300 requests within an hour to enrol on modules
    Then requests beyond 60 are turned down with HTTP 429

  Scenario: Withdraw a classmate
    When the student withdraws another student's enrolment
    Then HTTP 403 is returned and the enrolment is not withdrawn

  Scenario: Personal tutor views a tutee's enrolment
    Given the student's personal tutor is signed in
    When the tutor opens another student's enrolment
    Then the enrolment is shown

  Scenario: Prompt waitlist offer
    When a place becomes free on CS204
    Then the waitlist offer is e-mailed within 2 hours
