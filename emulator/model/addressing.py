"""Addresses: the ranges taken in one address space, and the pools that hand out the next
free address or subnet of an AS (loopbacks, links) or of the interconnect."""

from __future__ import annotations

import bisect
import ipaddress

from emulator.errors import LabError


class Claims:
    """Address ranges in use: disjoint, sorted, each with who claimed it. Never expands a
    network into its addresses (a /8 is one range)."""

    def __init__(self) -> None:
        self.firsts: list[int] = []
        self.lasts: list[int] = []
        self.owners: list[object] = []

    def overlapping(self, first: int, last: int) -> int | None:
        """The index of a claimed range that overlaps first..last, if any."""
        index = bisect.bisect_right(self.firsts, last) - 1
        if index >= 0 and self.lasts[index] >= first:
            return index
        return None

    def add(self, first: int, last: int, owner: object = None) -> None:
        index = bisect.bisect_left(self.firsts, first)
        self.firsts.insert(index, first)
        self.lasts.insert(index, last)
        self.owners.insert(index, owner)


def span(item: ipaddress.IPv4Address | ipaddress.IPv4Network) -> tuple[int, int]:
    if isinstance(item, ipaddress.IPv4Address):
        return int(item), int(item)
    return int(item.network_address), int(item.broadcast_address)


class AddressPool:
    """Hands out addresses or subnets from a network in order, skipping claimed ones."""

    def __init__(self, network: ipaddress.IPv4Network, claimed: Claims,
                 cursors: dict[tuple, int]):
        self.network = network
        self.claimed = claimed
        # Per pool and size: everything below the cursor is taken.
        self.cursors = cursors

    def next_host(self) -> ipaddress.IPv4Address:
        first, last = span(self.network)
        if self.network.prefixlen < 31:
            first, last = first + 1, last - 1
        key = (self.network, 32)
        address = max(first, self.cursors.get(key, first))
        while address <= last:
            taken = self.claimed.overlapping(address, address)
            if taken is None:
                self.claimed.add(address, address)
                self.cursors[key] = address + 1
                return ipaddress.IPv4Address(address)
            address = self.claimed.lasts[taken] + 1
        raise LabError(f"address pool {self.network} is exhausted",
                       hint="give the AS a larger pool")

    def next_subnet(self, prefixlen: int) -> ipaddress.IPv4Network:
        first, last = span(self.network)
        size = 1 << (32 - prefixlen)
        key = (self.network, prefixlen)
        start = max(first, self.cursors.get(key, first))
        while prefixlen >= self.network.prefixlen and start + size - 1 <= last:
            taken = self.claimed.overlapping(start, start + size - 1)
            if taken is None:
                self.claimed.add(start, start + size - 1)
                self.cursors[key] = start + size
                return ipaddress.IPv4Network((start, prefixlen))
            start = -(-(self.claimed.lasts[taken] + 1) // size) * size
        raise LabError(f"address pool {self.network} has no free /{prefixlen} left",
                       hint="give the AS a larger links pool")
