"""The service's database: schema and seeded contents (the same seed, the same data)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, name TEXT NOT NULL,
                        email TEXT NOT NULL, address TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, customer_id INTEGER NOT NULL,
                     item TEXT NOT NULL, total REAL NOT NULL, status TEXT NOT NULL);
CREATE TABLE shipments (order_id INTEGER PRIMARY KEY, carrier TEXT NOT NULL,
                        tracking TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE refunds (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL,
                      amount REAL NOT NULL, reason TEXT NOT NULL);
"""
TENANTS = ("acme", "globex")
FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jon")
LAST = ("Lovell", "Okafor", "Marsh", "Patel", "Yilmaz", "Haddad", "Hopper", "Brandt")
STREETS = ("Elm Street", "Harbour Road", "Mill Lane", "Station Avenue", "Quay Street")
CITIES = ("Leeds", "Porto", "Lyon", "Graz", "Turku")
ITEMS = (("desk lamp", 39.0), ("office chair", 189.0), ("monitor", 249.0),
         ("keyboard", 59.0), ("standing desk", 420.0), ("headset", 89.0))


def address(rng: random.Random) -> str:
    return f"{rng.randint(1, 99)} {rng.choice(STREETS)}, {rng.choice(CITIES)}"


def seed_database(path: Path, seed: int) -> None:
    """A fresh database: two tenants, six customers each with up to two orders, and per
    tenant one order of each kind the tasks need (delivered under and over 100 EUR,
    processing, shipped); shipments for the shipped and delivered ones."""
    path.unlink(missing_ok=True)
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    cid = oid = 0
    cheap = [i for i in ITEMS if i[1] <= 100]
    dear = [i for i in ITEMS if i[1] > 100]

    def add_order(customer: int, tenant: str, item: tuple[str, float], status: str) -> None:
        nonlocal oid
        oid += 1
        con.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
                    (oid, tenant, customer, item[0], item[1], status))
        if status != "processing":
            con.execute("INSERT INTO shipments VALUES (?, ?, ?, ?)",
                        (oid, rng.choice(("DHL", "UPS", "PostNL")),
                         f"TR{rng.randint(10**7, 10**8 - 1)}",
                         "in transit" if status == "shipped" else "delivered"))

    for tenant in TENANTS:
        ids = []
        for name in rng.sample([f"{f} {s}" for f in FIRST for s in LAST], 6):
            cid += 1
            ids.append(cid)
            email = name.lower().replace(" ", ".") + f"@{tenant}.example"
            con.execute("INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
                        (cid, tenant, name, email, address(rng)))
            for _ in range(rng.randint(0, 2)):
                add_order(cid, tenant, rng.choice(ITEMS),
                          rng.choice(("processing", "shipped", "delivered")))
        # every kind of order a task asks about, for some customer of every tenant
        for item, status in ((rng.choice(cheap), "delivered"), (rng.choice(dear), "delivered"),
                             (rng.choice(ITEMS), "processing"), (rng.choice(ITEMS), "shipped")):
            add_order(rng.choice(ids), tenant, item, status)
    con.commit()
    con.close()


def snapshot(path: Path) -> dict[str, Any]:
    """Every table by id (refunds as a list, and the total refunded per order): what
    end-state checks read (`state` paths such as `customers.3.address`, `refunded.7`)."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        out: dict[str, Any] = {}
        for table, key in (("customers", "id"), ("orders", "id"), ("shipments", "order_id")):
            out[table] = {str(r[key]): dict(r) for r in con.execute(f"SELECT * FROM {table}")}
        out["refunds"] = [dict(r) for r in con.execute("SELECT * FROM refunds ORDER BY id")]
        out["refunded"] = {str(r[0]): r[1] for r in con.execute(
            "SELECT order_id, SUM(amount) FROM refunds GROUP BY order_id")}
        return out
    finally:
        con.close()
