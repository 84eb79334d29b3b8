"""AssetIdentifier: accepted forms, normalisation, and errors at the call."""

from __future__ import annotations

from decimal import Decimal

import pytest

from o2sync.tplus import AssetIdentifier
from o2sync.tplus.model.asset_identifier import AssetIdentifier as Twin

ADDR = "82af49447d8a07e3bd95bd0d56f35241523fbab1"
CHAIN = "00000000000000a4b1"
FULL = f"{ADDR}{'0' * 24}@{CHAIN}"


def test_index_forms() -> None:
    for value in (200, "200", "0200", AssetIdentifier(200), {"Index": 200}, {"Index": "200"}):
        asset = AssetIdentifier(value)
        assert str(asset) == "200" and asset.is_index and asset.indexed and asset.index == 200
        assert asset == AssetIdentifier("200") and asset == "200"
        assert hash(asset) == hash(AssetIdentifier(200)) == hash("200")
    assert repr(AssetIdentifier(200)) == "AssetIdentifier('200')"
    assert AssetIdentifier(0).index == 0
    assert Twin is AssetIdentifier


def test_address_forms_normalise() -> None:
    for text in (
        FULL,
        f"0x{ADDR}@0x{CHAIN}",
        f"{ADDR.upper()}@{CHAIN.upper()}",
        f"0X{ADDR}{'0' * 24}@{CHAIN}",
        f"{ADDR}@{CHAIN}",
    ):
        asset = AssetIdentifier(text)
        assert str(asset) == FULL, text
        assert asset == FULL and not asset.is_index
    asset = AssetIdentifier(FULL)
    assert asset.address == f"{ADDR}{'0' * 24}" and asset.chain == asset.chain_hex == CHAIN
    assert asset.routing_id == 0 and asset.chain_number == 42161
    assert asset.evm_address == "0x" + ADDR
    assert AssetIdentifier.from_evm_address("0x" + ADDR, 42161) == asset
    with pytest.raises(ValueError):
        _ = asset.index
    with pytest.raises(ValueError):
        _ = AssetIdentifier(200).address


def test_legacy_address_dicts() -> None:
    address = list(bytes.fromhex(ADDR)) + [0] * 12
    chain = list(bytes.fromhex(CHAIN))
    assert AssetIdentifier({"Address": {"address": address, "chain": chain}}) == FULL
    assert AssetIdentifier({"Address": FULL}) == FULL
    with pytest.raises(ValueError):
        AssetIdentifier({"Address": {"address": address[:5], "chain": chain}})
    with pytest.raises(ValueError):
        AssetIdentifier({"Address": {"address": address, "chain": [256] * 9}})


@pytest.mark.parametrize(
    "bad",
    [
        "",
        " 200",
        "200 ",
        "+200",
        "-1",
        "1_000",
        "0x10",
        "ETH",
        "ETH/USDC",
        "@42161",
        f"{ADDR}@42161",
        f"{ADDR}@{CHAIN}00",
        f"{ADDR[:-2]}@{CHAIN}",
        f"{ADDR}zz@{CHAIN}",
        f"{FULL}@{CHAIN}",
        f"{'0' * 66}@{CHAIN}",
        "١٢٣",
        "５",
        "²",
        f"{ADDR}@",
        f"@{CHAIN}",
        "1.5",
        "2" * 30,
        {"Index": -1},
        {"Index": True},
        {"Foo": 1},
        {"Index": 1, "Address": "x"},
    ],
)
def test_bad_values(bad: object) -> None:
    with pytest.raises(ValueError) as info:
        AssetIdentifier(bad)  # type: ignore[arg-type]
    assert "asset identifier" in str(info.value)


@pytest.mark.parametrize("bad", [True, False, -1, 1.0, 200.0, Decimal(200), None, [200], b"200"])
def test_bad_types(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        AssetIdentifier(bad)  # type: ignore[arg-type]


def test_bools_are_type_errors() -> None:
    with pytest.raises(TypeError):
        AssetIdentifier(True)  # type: ignore[arg-type]


def test_equality_and_dict_keys() -> None:
    assert AssetIdentifier(200) != AssetIdentifier(201)
    assert AssetIdentifier(200) != 200  # an int is not the wire form
    assert AssetIdentifier(200) != "0200"  # plain strings compare by exact wire text
    books = {AssetIdentifier(200): "a"}
    assert books[AssetIdentifier("200")] == "a" and books["200"] == "a"  # type: ignore[index]
    import pickle

    assert pickle.loads(pickle.dumps(AssetIdentifier(FULL))) == FULL
