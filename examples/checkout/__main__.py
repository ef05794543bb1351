"""
Send a few checkout forms to the service and print what its HTTP API answers.

Run it with ``python examples/checkout``. Python puts this directory first on
``sys.path`` when it runs it, which is how ``import service`` finds the module
beside this file.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from datetime import date
from typing import Final

from service import (
    MAX_QUANTITY,
    CardExpired,
    CartLine,
    Checkout,
    CheckoutError,
    CheckoutRequest,
    EmptyCart,
    InvalidCoupon,
    InvalidExpiry,
    InvalidQuantity,
    OutOfStock,
    Receipt,
    UnknownCoupon,
    UnknownSku,
    sample_catalogue,
)

from outcome import Err, Ok

TODAY: Final = date(2025, 6, 15)
CARD_EXPIRY: Final = "09/27"

SCENARIOS: Final = (
    (
        "Happy path: two sencha teas and a mug, with a welcome coupon",
        CheckoutRequest(
            lines=(CartLine("TEA-SENCHA", "2"), CartLine("MUG-STONE", "1")),
            card_expiry=CARD_EXPIRY,
            coupon_code=" welcome10 ",
        ),
    ),
    (
        "Out of stock: five tins of matcha when the shelf holds two",
        CheckoutRequest(
            lines=(CartLine("MUG-STONE", "1"), CartLine("TEA-MATCHA", "5")),
            card_expiry=CARD_EXPIRY,
        ),
    ),
    (
        "Several problems at once: a bad quantity, an unknown SKU, a bad coupon",
        CheckoutRequest(
            lines=(
                CartLine("TEA-SENCHA", "two"),
                CartLine("TEA-OOLONG", "1"),
                CartLine("MUG-STONE", "1"),
            ),
            card_expiry=CARD_EXPIRY,
            coupon_code="HALF PRICE!",
        ),
    ),
    (
        "Bad expiry: month 13",
        CheckoutRequest(lines=(CartLine("MUG-STONE", "1"),), card_expiry="13/27"),
    ),
    (
        "Expired card: the last valid month was May 2025",
        CheckoutRequest(lines=(CartLine("MUG-STONE", "1"),), card_expiry="05/25"),
    ),
)


@dataclass(frozen=True)
class Response:
    """What the API sends back: a status line and a JSON body."""

    status: str
    body: dict[str, object]


def respond(checkout: Checkout, request: CheckoutRequest) -> Response:
    """Answer ``POST /checkout`` with the given form."""
    match checkout.commit(request):
        case Ok(receipt):
            return Response("201 Created", receipt_json(receipt))
        case Err(error):
            # `commit` stopped at the first error; the client is told them all.
            problems = [error_json(problem) for problem in checkout.problems(request)]
            return Response(status_for(error), {"errors": problems})


def receipt_json(receipt: Receipt) -> dict[str, object]:
    """Return the JSON body for a placed order."""
    bill = receipt.bill
    return {
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "amount_cents": line.amount_cents,
            }
            for line in bill.lines
        ],
        "subtotal_cents": bill.subtotal_cents,
        "discount_cents": bill.discount_cents,
        "total_cents": bill.total_cents,
        "card_expiry": str(receipt.card),
    }


def status_for(error: CheckoutError) -> str:
    """Return the HTTP status for a refused order, chosen by its first error."""
    match error:
        case OutOfStock():
            return "409 Conflict"
        case _:
            return "422 Unprocessable Content"


def error_json(error: CheckoutError) -> dict[str, str]:  # noqa: PLR0911 - one return per error
    """Return the JSON object the API uses to report `error`."""
    match error:
        case EmptyCart():
            return _problem("lines", "empty_cart", "The cart is empty.")
        case InvalidQuantity(sku, text):
            return _problem(
                "lines",
                "invalid_quantity",
                f"The quantity of {sku} must be a whole number from 1 to"
                f" {MAX_QUANTITY}, not {text!r}.",
            )
        case UnknownSku(sku):
            return _problem("lines", "unknown_sku", f"There is no product {sku}.")
        case OutOfStock(sku, requested, available):
            return _problem(
                "lines",
                "out_of_stock",
                f"Only {available} of {sku} left; {requested} requested.",
            )
        case InvalidCoupon(text):
            return _problem(
                "coupon_code", "invalid_coupon", f"{text!r} is not a coupon code."
            )
        case UnknownCoupon(code):
            return _problem(
                "coupon_code", "unknown_coupon", f"There is no coupon {code}."
            )
        case InvalidExpiry(text):
            return _problem(
                "card_expiry",
                "invalid_expiry",
                f"The card expiry must be a month written MM/YY, not {text!r}.",
            )
        case CardExpired(expiry):
            return _problem(
                "card_expiry", "card_expired", f"The card expired after {expiry}."
            )


def _problem(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def show_unchecked_result(checkout: Checkout, request: CheckoutRequest) -> None:
    """Show that treating a Result as a bool raises instead of passing silently."""
    try:
        # The classic bug: a returned error object is truthy, so a failed
        # checkout would be reported as placed. mypy and pyright flag this too;
        # the ignores are there so the check at run time can be seen.
        if checkout.commit(request):  # pyright: ignore[reportGeneralTypeIssues]
            print("Order placed.")  # type: ignore[unreachable]
    except TypeError as error:
        print(f"   TypeError: {error}")


def main() -> None:
    """Run every scenario against one freshly stocked shop."""
    checkout = Checkout(sample_catalogue(), today=TODAY)
    for number, (title, request) in enumerate(SCENARIOS, start=1):
        print(f"{number}. {title}")
        response = respond(checkout, request)
        print(f"   HTTP/1.1 {response.status}")
        print(textwrap.indent(json.dumps(response.body, indent=2), "   "))
        print()
    print(f"{len(SCENARIOS) + 1}. Unchecked result: `if checkout.commit(request):`")
    show_unchecked_result(checkout, SCENARIOS[1][1])


if __name__ == "__main__":
    main()
