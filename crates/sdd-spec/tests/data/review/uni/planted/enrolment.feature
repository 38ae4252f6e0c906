@domain:enrolment
Feature: Enrolment

  Background:
    Given a second-year student signed in through the university portal
    And the module CS204 has 3 places left

  Scenario: Enrol on a module with places
    When the student enrols on CS204
    Then the student gets enrolled on CS204
    And a confirmation is shown

  Scenario: Enrol on a module that has places
    When the student enrols on CS204
    Then the student is not enrolled on CS204

  Scenario: Enrol from an unauthenticated browser
    When a visitor who has not signed in enrols on CS204
    Then the visitor gets enrolled on CS204

  Scenario: Scripted enrolment storm
    When one student submits 300 requests within an hour to enrol on modules
    Then none of the requests is turned down

  Scenario: Withdraw a classmate
    When the student withdraws another student's enrolment
    Then the enrolment is withdrawn

  Scenario: Slow waitlist offer
    When a place becomes free on CS204
    Then the waitlist offer is e-mailed within 3 days
