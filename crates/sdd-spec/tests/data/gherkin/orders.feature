# The Gherkin half of the orders domain, as a cucumber suite keeps it.
@domain:orders @checkout
Feature: Orders
  What happens to an order after checkout.

  Background:
    Given a signed-in customer

  @id:orders.cancel @status:approved @approved_by:ada @reviewed_at:2026-01-05T10:00:00Z
  @fingerprint:sha256:1dd6d77f1922f59d7b3195112802892869758008ec9955eec33c1f98b7c6e6ee
  Scenario: Cancel an order
    Given an order that has not shipped
    When the customer cancels it
    Then the order is cancelled
    And the payment is returned

  # Approved as "the customer is told"; edited since.
  @id:orders.ship @status:approved @approved_by:ada
  @fingerprint:sha256:2908136e4a10a41c6fb12aca1fa75a627eba9b2a8c165a1dfb8b030c74e90583
  Scenario: Ship an order
    When the warehouse ships it
    Then the customer is told by email

  Scenario: Refund an order
    When the customer asks for a refund
    Then the payment is returned

  @id:orders.total @smoke
  Scenario Outline: Order total for <count> books
    Given a cart with <count> books at <price> each
    When the customer checks out
    Then the order total is <total>

    Examples: small orders
      | count | price | total |
      | 1     | 10    | 10    |
      | 2     | 10    | 20    |

    @bulk
    Examples: bulk orders
      | count | price | total |
      | 100   | 9     | 900   |
