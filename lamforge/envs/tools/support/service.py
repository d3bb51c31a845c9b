"""The customer-service back end: customers, orders, shipments and refunds over HTTP.

A real service (FastAPI over SQLite), started on 127.0.0.1 by the environment:

    python -m lamforge.envs.tools.support.service --db PATH --port PORT

Every request names its tenant (`X-Tenant`); another tenant's records do not exist for it
(404, as for an id nobody has), so no role can read them whatever the agent tries. Business
rules are the service's own: a refund cannot exceed what is left of the order's total, an
order cannot be cancelled once shipped. Who may do what (refund limits, deleting) is the
agent's policy layer, not the service's: `configs/support-policy.yaml`.

The operations' `operation_id`s are the tools' names: the environment reads the service's
OpenAPI document (`/openapi.json`) and needs no list of its own.
"""

import argparse
import sqlite3
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, Header, HTTPException
from pydantic import BaseModel, Field

from lamforge.envs.tools.support.data import seed_database

# no `from __future__ import annotations` here: FastAPI reads these annotations at run time
Tenant = Annotated[str, Header(alias="X-Tenant", description="The caller's tenant")]


class AddressChange(BaseModel):
    address: str = Field(min_length=5, description="The new postal address, one line")


class RefundRequest(BaseModel):
    amount: float = Field(gt=0, description="Amount to refund, in euros")
    reason: str = Field(min_length=3, description="Why the customer is refunded")


class ResetRequest(BaseModel):
    seed: int = 0


def make_app(db: Path) -> FastAPI:
    app = FastAPI(title="lamforge support", version="1",
                  description="Customers, orders, shipments and refunds of a small shop")

    def connect() -> sqlite3.Connection:
        con = sqlite3.connect(db)
        con.row_factory = sqlite3.Row
        return con

    def one(con: sqlite3.Connection, sql: str, args: tuple, what: str) -> dict[str, Any]:
        row = con.execute(sql, args).fetchone()
        if row is None:
            raise HTTPException(404, f"no {what}")
        return dict(row)

    def customer(con: sqlite3.Connection, tenant: str, customer_id: int) -> dict[str, Any]:
        return one(con, "SELECT * FROM customers WHERE id = ? AND tenant = ?",
                   (customer_id, tenant), f"customer {customer_id}")

    def order(con: sqlite3.Connection, tenant: str, order_id: int) -> dict[str, Any]:
        return one(con, "SELECT * FROM orders WHERE id = ? AND tenant = ?",
                   (order_id, tenant), f"order {order_id}")

    @app.get("/customers", operation_id="find_customers")
    def find_customers(x_tenant: Tenant, name: str | None = None,
                       email: str | None = None) -> list[dict[str, Any]]:
        """Find the customers whose name or email contains the given text."""
        if not name and not email:
            raise HTTPException(422, "give a name or an email to search for")
        with connect() as con:
            rows = con.execute(
                "SELECT * FROM customers WHERE tenant = ? AND name LIKE ? AND email LIKE ?",
                (x_tenant, f"%{name or ''}%", f"%{email or ''}%")).fetchall()
        return [dict(r) for r in rows]

    @app.get("/customers/{customer_id}", operation_id="get_customer")
    def get_customer(customer_id: int, x_tenant: Tenant) -> dict[str, Any]:
        """Look up one customer: name, email, address."""
        with connect() as con:
            return customer(con, x_tenant, customer_id)

    @app.put("/customers/{customer_id}/address", operation_id="update_address")
    def update_address(customer_id: int, change: AddressChange,
                       x_tenant: Tenant) -> dict[str, Any]:
        """Change a customer's postal address."""
        with connect() as con:
            customer(con, x_tenant, customer_id)
            con.execute("UPDATE customers SET address = ? WHERE id = ?",
                        (change.address, customer_id))
            return customer(con, x_tenant, customer_id)

    @app.delete("/customers/{customer_id}", operation_id="delete_customer")
    def delete_customer(customer_id: int, x_tenant: Tenant) -> dict[str, Any]:
        """Delete a customer and their orders."""
        with connect() as con:
            customer(con, x_tenant, customer_id)
            con.execute("DELETE FROM orders WHERE customer_id = ?", (customer_id,))
            con.execute("DELETE FROM customers WHERE id = ?", (customer_id,))
        return {"deleted": customer_id}

    @app.get("/customers/{customer_id}/orders", operation_id="list_orders")
    def list_orders(customer_id: int, x_tenant: Tenant) -> list[dict[str, Any]]:
        """List a customer's orders: item, total, status."""
        with connect() as con:
            customer(con, x_tenant, customer_id)
            rows = con.execute("SELECT * FROM orders WHERE customer_id = ? ORDER BY id",
                               (customer_id,)).fetchall()
        return [dict(r) for r in rows]

    @app.get("/orders/{order_id}", operation_id="get_order")
    def get_order(order_id: int, x_tenant: Tenant) -> dict[str, Any]:
        """Look up one order, with what has been refunded of it."""
        with connect() as con:
            out = order(con, x_tenant, order_id)
            out["refunded"] = con.execute("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE "
                                          "order_id = ?", (order_id,)).fetchone()[0]
        return out

    @app.get("/orders/{order_id}/shipment", operation_id="get_shipment")
    def get_shipment(order_id: int, x_tenant: Tenant) -> dict[str, Any]:
        """Find where an order's parcel is: carrier, tracking number, status."""
        with connect() as con:
            order(con, x_tenant, order_id)
            return one(con, "SELECT * FROM shipments WHERE order_id = ?", (order_id,),
                       f"shipment for order {order_id} (not shipped yet)")

    @app.post("/orders/{order_id}/refunds", operation_id="issue_refund")
    def issue_refund(order_id: int, refund: RefundRequest, x_tenant: Tenant) -> dict[str, Any]:
        """Refund part or all of an order's total."""
        with connect() as con:
            o = order(con, x_tenant, order_id)
            done = con.execute("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE order_id = ?",
                               (order_id,)).fetchone()[0]
            if refund.amount > o["total"] - done + 1e-9:
                raise HTTPException(409, f"order {order_id} has {o['total'] - done:.2f} left to "
                                         f"refund, not {refund.amount:.2f}")
            cur = con.execute("INSERT INTO refunds (order_id, amount, reason) VALUES (?, ?, ?)",
                              (order_id, refund.amount, refund.reason))
            return {"refund_id": cur.lastrowid, "order_id": order_id, "amount": refund.amount}

    @app.post("/orders/{order_id}/cancel", operation_id="cancel_order")
    def cancel_order(order_id: int, x_tenant: Tenant) -> dict[str, Any]:
        """Cancel an order that has not shipped yet."""
        with connect() as con:
            o = order(con, x_tenant, order_id)
            if o["status"] != "processing":
                raise HTTPException(409, f"order {order_id} is {o['status']}: too late to "
                                         "cancel")
            con.execute("UPDATE orders SET status = 'cancelled' WHERE id = ?", (order_id,))
        return {"order_id": order_id, "status": "cancelled"}

    # the environment's own controls: not operations, so not in the OpenAPI document
    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/admin/reset", include_in_schema=False)
    def reset(req: Annotated[ResetRequest, Body()]) -> dict[str, int]:
        seed_database(db, req.seed)
        return {"seed": req.seed}

    return app


def main() -> None:
    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    uvicorn.run(make_app(args.db), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
