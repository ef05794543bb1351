"""
A shop's checkout, written as a service object on top of the Result core.

`Checkout.commit` turns a submitted checkout form into a `Receipt`, or stops at
the first `CheckoutError` it meets; `Checkout.problems` lists every error at
once, for a form to show next to its fields. Each error is a small frozen
dataclass, so callers `match` on it instead of parsing a message. Money is held
in integer cents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeAlias

from outcome import Err, Ok, Result, as_result, collect, do, partition

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import date

MAX_QUANTITY: Final = 99
_EXPIRY: Final = re.compile(r"(?P<month>[0-9]{2})/(?P<year>[0-9]{2})")
_COUPON_CODE: Final = re.compile(r"[A-Z0-9]{4,16}")


# The form as the browser sent it: every field is still text.


@dataclass(frozen=True)
class CartLine:
    """One line of the submitted cart: a SKU and the quantity as typed."""

    sku: str
    quantity: str


@dataclass(frozen=True)
class CheckoutRequest:
    """The submitted checkout form."""

    lines: tuple[CartLine, ...]
    card_expiry: str
    coupon_code: str = ""


# What the form means once read, and what the shop sells.


@dataclass(frozen=True)
class OrderLine:
    """A cart line whose quantity has been read."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class CardExpiry:
    """The last month in which a card can be charged."""

    month: int
    year: int

    def __str__(self) -> str:
        """Return the expiry as printed on the card, e.g. ``09/27``."""
        return f"{self.month:02}/{self.year % 100:02}"


@dataclass(frozen=True)
class Product:
    """Something the shop sells, at a unit price in cents."""

    sku: str
    name: str
    price_cents: int


@dataclass(frozen=True)
class Coupon:
    """A code that takes a percentage off the order."""

    code: str
    percent_off: int

    def discount_on(self, amount_cents: int) -> int:
        """Return the discount on `amount_cents`, rounded down to the cent."""
        return amount_cents * self.percent_off // 100


NO_COUPON: Final = Coupon(code="", percent_off=0)
"""What an order without a coupon code gets: nothing off."""


@dataclass(frozen=True)
class PricedLine:
    """An order line priced from the catalogue."""

    sku: str
    name: str
    quantity: int
    unit_price_cents: int

    @property
    def amount_cents(self) -> int:
        """The price of the whole line."""
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True)
class Bill:
    """The priced lines and what the customer pays for them."""

    lines: tuple[PricedLine, ...]
    subtotal_cents: int
    total_cents: int

    @property
    def discount_cents(self) -> int:
        """What the coupon took off the subtotal."""
        return self.subtotal_cents - self.total_cents


@dataclass(frozen=True)
class Receipt:
    """A placed order: the bill and the card it was charged to."""

    bill: Bill
    card: CardExpiry


# Why a checkout can fail. Each is a value the caller can match on.


@dataclass(frozen=True)
class EmptyCart:
    """The form had no cart lines."""


@dataclass(frozen=True)
class InvalidQuantity:
    """A quantity is not a whole number from 1 to `MAX_QUANTITY`."""

    sku: str
    text: str


@dataclass(frozen=True)
class UnknownSku:
    """The catalogue has no product with this SKU."""

    sku: str


@dataclass(frozen=True)
class OutOfStock:
    """More of a product was ordered than is in stock."""

    sku: str
    requested: int
    available: int


@dataclass(frozen=True)
class InvalidCoupon:
    """The coupon field does not hold a well-formed code."""

    text: str


@dataclass(frozen=True)
class UnknownCoupon:
    """A well-formed coupon code that the shop does not offer."""

    code: str


@dataclass(frozen=True)
class InvalidExpiry:
    """The card expiry is not a month in the form MM/YY."""

    text: str


@dataclass(frozen=True)
class CardExpired:
    """The card's last valid month is already over."""

    expiry: CardExpiry


CheckoutError: TypeAlias = (
    EmptyCart
    | InvalidQuantity
    | UnknownSku
    | OutOfStock
    | InvalidCoupon
    | UnknownCoupon
    | InvalidExpiry
    | CardExpired
)
"""Every reason `Checkout.commit` can refuse an order."""


# Parsers. Each raises ValueError on bad text; `as_result` turns that into an
# `Err`, and the public function beside it swaps the exception for a domain
# error, so no exception text ever reaches a customer.


@as_result(ValueError)
def _read_quantity(text: str) -> int:
    quantity = int(text)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValueError(f"quantity must be from 1 to {MAX_QUANTITY}, not {quantity}")
    return quantity


@as_result(ValueError)
def _read_expiry(text: str) -> CardExpiry:
    found = _EXPIRY.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"expected MM/YY, not {text!r}")
    month = int(found["month"])
    if month not in range(1, 13):
        raise ValueError(f"there is no month {month}")
    return CardExpiry(month=month, year=2000 + int(found["year"]))


@as_result(ValueError)
def _read_coupon_code(text: str) -> str | None:
    code = text.strip().upper()
    if not code:
        return None
    if _COUPON_CODE.fullmatch(code) is None:
        raise ValueError(f"a coupon code is 4 to 16 letters or digits, not {text!r}")
    return code


def parse_line(line: CartLine) -> Result[OrderLine, InvalidQuantity]:
    """Read a cart line's quantity: a whole number from 1 to `MAX_QUANTITY`."""
    return (
        _read_quantity(line.quantity)
        .map(lambda quantity: OrderLine(line.sku, quantity))
        .map_err(lambda _: InvalidQuantity(line.sku, line.quantity))
    )


def parse_expiry(text: str) -> Result[CardExpiry, InvalidExpiry]:
    """Read a card expiry written MM/YY."""
    return _read_expiry(text).map_err(lambda _: InvalidExpiry(text))


def parse_coupon_code(text: str) -> Result[str | None, InvalidCoupon]:
    """Read a coupon code, ignoring case; a blank field means no coupon."""
    return _read_coupon_code(text).map_err(lambda _: InvalidCoupon(text))


def merge_lines(lines: Iterable[OrderLine]) -> list[OrderLine]:
    """Add up the lines for the same SKU, so stock is checked against the total."""
    quantities: dict[str, int] = {}
    for line in lines:
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    return [OrderLine(sku, quantity) for sku, quantity in quantities.items()]


class Catalogue:
    """The products, their stock and the coupons on offer, held in memory."""

    def __init__(
        self, stock: Mapping[Product, int], coupons: Iterable[Coupon] = ()
    ) -> None:
        """
        Stock the catalogue.

        Args:
            stock: How many of each product the shop has.
            coupons: The coupons customers may use.
        """
        self._products = {product.sku: product for product in stock}
        self._stock = {product.sku: count for product, count in stock.items()}
        self._coupons = {coupon.code: coupon for coupon in coupons}

    def product(self, sku: str) -> Result[Product, UnknownSku]:
        """Return the product sold under `sku`."""
        product = self._products.get(sku)
        return Err(UnknownSku(sku)) if product is None else Ok(product)

    def quote(self, line: OrderLine) -> Result[PricedLine, UnknownSku | OutOfStock]:
        """Price `line`, if its product exists and enough of it is in stock."""
        return self.product(line.sku).and_then(
            lambda product: self._in_stock(product, line.quantity)
        )

    def coupon(self, code: str) -> Result[Coupon, UnknownCoupon]:
        """Return the coupon for `code`."""
        coupon = self._coupons.get(code)
        return Err(UnknownCoupon(code)) if coupon is None else Ok(coupon)

    def take(self, lines: Iterable[PricedLine]) -> None:
        """Remove sold items from stock; `quote` must have accepted each line."""
        for line in lines:
            self._stock[line.sku] -= line.quantity

    def _in_stock(
        self, product: Product, quantity: int
    ) -> Result[PricedLine, OutOfStock]:
        available = self._stock[product.sku]
        if quantity > available:
            return Err(OutOfStock(product.sku, quantity, available))
        return Ok(PricedLine(product.sku, product.name, quantity, product.price_cents))


def sample_catalogue() -> Catalogue:
    """Return the catalogue of a small tea shop, freshly stocked."""
    return Catalogue(
        {
            Product("TEA-SENCHA", "Sencha green tea, 100 g", 1250): 10,
            Product("TEA-MATCHA", "Ceremonial matcha, 30 g", 2400): 2,
            Product("MUG-STONE", "Stoneware mug", 900): 5,
        },
        coupons=[Coupon("WELCOME10", percent_off=10)],
    )


class Checkout:
    """
    Place orders against a catalogue: one call to `commit` per submitted form.

    Each stage of a checkout returns a `Result` and the stages are chained with
    `and_then`, so the first error skips every later stage and is returned.
    """

    def __init__(self, catalogue: Catalogue, *, today: date) -> None:
        """
        Set up a checkout.

        Args:
            catalogue: Where products, stock and coupons are looked up.
            today: The date cards are checked against.
        """
        self._catalogue = catalogue
        self._today = today

    def commit(self, request: CheckoutRequest) -> Result[Receipt, CheckoutError]:
        """
        Read the form, price the cart, apply the coupon and charge the card.

        Returns:
            ``Ok(receipt)`` once the order is placed and its items are taken
            from stock, or ``Err(error)`` with the first problem found, in
            which case nothing has changed.
        """
        return (
            self._order_lines(request.lines)
            .and_then(self._price)
            .and_then(lambda lines: self._bill(lines, request.coupon_code))
            .and_then(lambda bill: self._pay(bill, request.card_expiry))
        )

    def problems(self, request: CheckoutRequest) -> list[CheckoutError]:
        """
        Return every problem with `request`, not only the first, in form order.

        `commit` stops at the first error; a form wants them all at once. The
        first problem listed is the error `commit` returns.
        """
        empty: list[CheckoutError] = [] if request.lines else [EmptyCart()]
        lines, bad_quantities = partition(parse_line(line) for line in request.lines)
        _, unavailable = partition(
            self._catalogue.quote(line) for line in merge_lines(lines)
        )
        _, bad_fields = partition(
            [self._coupon(request.coupon_code), self._card(request.card_expiry)]
        )
        return [*empty, *bad_quantities, *unavailable, *bad_fields]

    def _order_lines(
        self, lines: tuple[CartLine, ...]
    ) -> Result[list[OrderLine], CheckoutError]:
        if not lines:
            return Err(EmptyCart())
        return collect(parse_line(line) for line in lines).map(merge_lines)

    def _price(self, lines: list[OrderLine]) -> Result[list[PricedLine], CheckoutError]:
        # The first line that is unknown or out of stock stops the checkout.
        return collect(self._catalogue.quote(line) for line in lines)

    def _bill(
        self, lines: list[PricedLine], coupon_code: str
    ) -> Result[Bill, CheckoutError]:
        subtotal = sum(line.amount_cents for line in lines)
        # `do` reads as the happy path; the annotation names the error type the
        # `for` clauses can stop with, which the `Ok(...)` alone cannot tell.
        total: Result[int, CheckoutError] = do(
            Ok(subtotal - coupon.discount_on(subtotal))
            for code in parse_coupon_code(coupon_code)
            for coupon in self._find_coupon(code)
        )
        return total.map(lambda total_cents: Bill(tuple(lines), subtotal, total_cents))

    def _pay(self, bill: Bill, card_expiry: str) -> Result[Receipt, CheckoutError]:
        # Only the card's expiry is checked: no payment gateway is wired in.
        return self._card(card_expiry).map(lambda card: self._place(bill, card))

    def _place(self, bill: Bill, card: CardExpiry) -> Receipt:
        self._catalogue.take(bill.lines)
        return Receipt(bill, card)

    def _coupon(self, text: str) -> Result[Coupon, CheckoutError]:
        return parse_coupon_code(text).and_then(self._find_coupon)

    def _find_coupon(self, code: str | None) -> Result[Coupon, UnknownCoupon]:
        return Ok(NO_COUPON) if code is None else self._catalogue.coupon(code)

    def _card(self, text: str) -> Result[CardExpiry, CheckoutError]:
        return parse_expiry(text).and_then(self._unexpired)

    def _unexpired(self, card: CardExpiry) -> Result[CardExpiry, CardExpired]:
        if (card.year, card.month) < (self._today.year, self._today.month):
            return Err(CardExpired(card))
        return Ok(card)
