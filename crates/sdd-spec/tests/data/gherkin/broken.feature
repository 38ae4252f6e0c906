Feature: Returns
  Scenario: Return a book
    Given a delivered order
    When the customer returns
      | item | quantity |
      | book |
    Then a refund is issued
