"""Tests for the runnable examples under examples/."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from outcome import Err, Ok

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = ROOT / "examples" / "checkout"
TODAY = date(2025, 6, 15)  # the date the demo runs at


def _load_checkout_service() -> ModuleType:
    # Loaded under a name of its own, so nothing called `service` lands in
    # sys.modules. Dataclasses look their module up there, hence the entry.
    spec = importlib.util.spec_from_file_location(
        "checkout_service", CHECKOUT / "service.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


service = _load_checkout_service()


def _run_demo(script: Path | str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - runs this interpreter on a file of ours
        [sys.executable, "-W", "error", str(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _sections(output: str) -> dict[int, list[str]]:
    """Split the demo's output by numbered heading into stripped lines."""
    sections: dict[int, list[str]] = {}
    number = 0
    for line in output.splitlines():
        heading = re.match(r"(\d+)\. ", line)
        if heading:
            number = int(heading[1])
        sections.setdefault(number, []).append(line.strip())
    return sections


@pytest.fixture(scope="class")
def demo() -> subprocess.CompletedProcess[str]:
    """The checkout demo, run the way `make demo` runs it."""
    return _run_demo("examples/checkout", cwd=ROOT)


@pytest.fixture(scope="class")
def sections(demo: subprocess.CompletedProcess[str]) -> dict[int, list[str]]:
    """The demo's output, by scenario number."""
    return _sections(demo.stdout)


class TestCheckoutDemo:
    """`python examples/checkout` runs and prints what the API answers."""

    def test_runs_cleanly(self, demo: subprocess.CompletedProcess[str]) -> None:
        """The demo exits 0 without writing to stderr, even with warnings as errors."""
        assert demo.returncode == 0, demo.stderr
        assert demo.stderr == ""

    def test_runs_from_any_directory(
        self, demo: subprocess.CompletedProcess[str], tmp_path: Path
    ) -> None:
        """The demo finds its service module when started from elsewhere."""
        elsewhere = _run_demo(CHECKOUT, cwd=tmp_path)

        assert elsewhere.returncode == 0, elsewhere.stderr
        assert elsewhere.stdout == demo.stdout

    def test_happy_path_charges_the_discounted_total(
        self, sections: dict[int, list[str]]
    ) -> None:
        """Two teas and a mug cost 3400 cents, 3060 with the 10% coupon."""
        happy = sections[1]

        assert happy[0].startswith("1. Happy path")
        assert "HTTP/1.1 201 Created" in happy
        assert '"subtotal_cents": 3400,' in happy
        assert '"discount_cents": 340,' in happy
        assert '"total_cents": 3060,' in happy
        assert '"card_expiry": "09/27"' in happy

    def test_out_of_stock_names_the_product(
        self, sections: dict[int, list[str]]
    ) -> None:
        """Ordering more than is in stock is a 409 naming the SKU and the counts."""
        out_of_stock = sections[2]

        assert "HTTP/1.1 409 Conflict" in out_of_stock
        assert '"code": "out_of_stock",' in out_of_stock
        assert '"message": "Only 2 of TEA-MATCHA left; 5 requested."' in out_of_stock

    def test_every_problem_is_reported_together(
        self, sections: dict[int, list[str]]
    ) -> None:
        """A bad quantity, an unknown SKU and a bad coupon come back in one 422."""
        several = sections[3]
        codes = [line for line in several if line.startswith('"code": ')]

        assert "HTTP/1.1 422 Unprocessable Content" in several
        assert codes == [
            '"code": "invalid_quantity",',
            '"code": "unknown_sku",',
            '"code": "invalid_coupon",',
        ]
        assert '"message": "There is no product TEA-OOLONG."' in several

    def test_bad_expiry_is_rejected(self, sections: dict[int, list[str]]) -> None:
        """A card expiry of month 13 is a 422 quoting what was typed."""
        bad_expiry = sections[4]

        assert "HTTP/1.1 422 Unprocessable Content" in bad_expiry
        assert '"field": "card_expiry",' in bad_expiry
        assert '"code": "invalid_expiry",' in bad_expiry
        assert any("not '13/27'" in line for line in bad_expiry)

    def test_expired_card_is_rejected(self, sections: dict[int, list[str]]) -> None:
        """A card whose last month has passed is refused."""
        expired = sections[5]

        assert '"code": "card_expired",' in expired
        assert '"message": "The card expired after 05/25."' in expired

    def test_unchecked_result_raises(self, sections: dict[int, list[str]]) -> None:
        """Using a failed commit as a bool raises TypeError instead of passing."""
        unchecked = sections[6]

        assert unchecked[1].startswith(
            "TypeError: Err(OutOfStock(sku='TEA-MATCHA', requested=5, available=2))"
            " is a Result, not a bool"
        )
        assert "Order placed." not in unchecked


def _request(
    *lines: tuple[str, str], card_expiry: str = "09/27", coupon_code: str = ""
) -> Any:
    return service.CheckoutRequest(
        lines=tuple(service.CartLine(sku, quantity) for sku, quantity in lines),
        card_expiry=card_expiry,
        coupon_code=coupon_code,
    )


@pytest.fixture
def checkout() -> Any:
    """A checkout against a freshly stocked sample catalogue."""
    return service.Checkout(service.sample_catalogue(), today=TODAY)


SEVERAL_PROBLEMS = _request(
    ("TEA-SENCHA", "two"),
    ("TEA-OOLONG", "1"),
    ("MUG-STONE", "1"),
    coupon_code="HALF PRICE!",
)
REFUSED = [
    pytest.param(_request(), id="empty cart"),
    pytest.param(_request(("TEA-MATCHA", "5")), id="out of stock"),
    pytest.param(SEVERAL_PROBLEMS, id="several problems"),
    pytest.param(_request(("MUG-STONE", "1"), card_expiry="13/27"), id="bad expiry"),
    pytest.param(_request(("MUG-STONE", "1"), card_expiry="05/25"), id="expired"),
    pytest.param(
        _request(("MUG-STONE", "1"), coupon_code="SPRING25"), id="unknown coupon"
    ),
]


class TestCheckoutService:
    """`Checkout.commit` returns each story's outcome as a value."""

    def test_happy_path_returns_the_receipt(self, checkout: Any) -> None:
        """A valid order is Ok with the priced lines and the discounted total."""
        result = checkout.commit(
            _request(("TEA-SENCHA", "2"), ("MUG-STONE", "1"), coupon_code=" welcome10 ")
        )

        assert result == Ok(
            service.Receipt(
                service.Bill(
                    lines=(
                        service.PricedLine(
                            "TEA-SENCHA", "Sencha green tea, 100 g", 2, 1250
                        ),
                        service.PricedLine("MUG-STONE", "Stoneware mug", 1, 900),
                    ),
                    subtotal_cents=3400,
                    total_cents=3060,
                ),
                service.CardExpiry(month=9, year=2027),
            )
        )

    def test_out_of_stock(self, checkout: Any) -> None:
        """Ordering more than the shelf holds is Err(OutOfStock) with both counts."""
        result = checkout.commit(_request(("MUG-STONE", "1"), ("TEA-MATCHA", "5")))

        assert result == Err(service.OutOfStock("TEA-MATCHA", requested=5, available=2))

    def test_lines_for_one_product_are_checked_together(self, checkout: Any) -> None:
        """Two lines of the same SKU cannot together take more than is in stock."""
        result = checkout.commit(_request(("TEA-MATCHA", "2"), ("TEA-MATCHA", "1")))

        assert result == Err(service.OutOfStock("TEA-MATCHA", requested=3, available=2))

    def test_first_error_wins_and_problems_lists_them_all(self, checkout: Any) -> None:
        """commit stops at the bad quantity; problems also names the SKU and coupon."""
        assert checkout.commit(SEVERAL_PROBLEMS) == Err(
            service.InvalidQuantity("TEA-SENCHA", "two")
        )
        assert checkout.problems(SEVERAL_PROBLEMS) == [
            service.InvalidQuantity("TEA-SENCHA", "two"),
            service.UnknownSku("TEA-OOLONG"),
            service.InvalidCoupon("HALF PRICE!"),
        ]

    @pytest.mark.parametrize("text", ["13/27", "00/27", "9/27", "09-27", "", "soon"])
    def test_bad_expiry(self, checkout: Any, text: str) -> None:
        """An expiry that is not a month written MM/YY is Err(InvalidExpiry)."""
        result = checkout.commit(_request(("MUG-STONE", "1"), card_expiry=text))

        assert result == Err(service.InvalidExpiry(text))

    def test_expired_card(self, checkout: Any) -> None:
        """A card whose last month is over is Err(CardExpired)."""
        result = checkout.commit(_request(("MUG-STONE", "1"), card_expiry="05/25"))

        assert result == Err(service.CardExpired(service.CardExpiry(5, 2025)))

    def test_card_is_valid_through_its_last_month(self, checkout: Any) -> None:
        """A card expiring this month can still be charged."""
        result = checkout.commit(_request(("MUG-STONE", "1"), card_expiry="06/25"))

        assert result.is_ok()

    @pytest.mark.parametrize("text", ["two", "0", "-1", "100", "1.5", ""])
    def test_bad_quantity(self, checkout: Any, text: str) -> None:
        """A quantity outside the whole numbers 1 to 99 is Err(InvalidQuantity)."""
        result = checkout.commit(_request(("MUG-STONE", text)))

        assert result == Err(service.InvalidQuantity("MUG-STONE", text))

    def test_unknown_coupon(self, checkout: Any) -> None:
        """A well-formed code the shop does not offer is Err(UnknownCoupon)."""
        result = checkout.commit(_request(("MUG-STONE", "1"), coupon_code="spring25"))

        assert result == Err(service.UnknownCoupon("SPRING25"))

    def test_empty_cart(self, checkout: Any) -> None:
        """A form without lines is Err(EmptyCart)."""
        assert checkout.commit(_request()) == Err(service.EmptyCart())

    def test_commit_takes_the_stock(self, checkout: Any) -> None:
        """A placed order leaves less stock for the next one."""
        order = _request(("TEA-MATCHA", "2"))

        assert checkout.commit(order).is_ok()
        assert checkout.commit(order) == Err(
            service.OutOfStock("TEA-MATCHA", requested=2, available=0)
        )

    def test_refused_commit_takes_no_stock(self, checkout: Any) -> None:
        """An order refused for one line leaves the stock of its other lines alone."""
        mugs = ("MUG-STONE", "5")

        assert checkout.commit(_request(mugs, ("TEA-MATCHA", "5"))).is_err()
        assert checkout.commit(_request(mugs)).is_ok()

    @pytest.mark.parametrize("form", REFUSED)
    def test_commit_error_is_the_first_problem(self, checkout: Any, form: Any) -> None:
        """Whatever the failure, commit returns the first error problems lists."""
        problems = checkout.problems(form)

        assert checkout.commit(form) == Err(problems[0])
