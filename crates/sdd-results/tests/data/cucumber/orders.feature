@domain:orders
Feature: Orders
  Background:
    Given a signed-in customer

  @id:orders.cancel
  Scenario: Cancel an order
    When the customer cancels it
    Then the order is cancelled

  Scenario: Ship an order
    When the warehouse ships it
    Then the customer is told

  Scenario Outline: Order total
    When the customer buys <count> books
    Then the total is <total>

    Examples:
      | count | total |
      | 1     | 10    |
      | 2     | 20    |

  Scenario: Archive an order
    When the customer archives it
    Then it is hidden
