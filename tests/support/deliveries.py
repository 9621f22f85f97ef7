"""Queued messages whose delivery jobs are claimed, as a carrier took them (integration tests of the
delivery and receipt steps)."""

from __future__ import annotations

from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.config import Prices
from telroute.kit import jobs
from telroute.kit.jobs import Job
from telroute.messages import delivery, model, repository, service, tasks
from telroute.messages.carrier_port import CarrierReceipt


async def claimed_submits(
    deps: Deps, account: Account, sender: str, count: int, *, parts: int = 2, now: int
) -> list[delivery.Submitted]:
    """`count` messages from `sender` with a DLR callback, queued and their delivery jobs claimed, as the
    carrier `test` took them: ids `id-<job>-<part>` for `parts` parts each, a `scheduled_receipt` job each."""
    for n in range(count):
        sent = service.validate_send(
            {"from": sender, "to": f"1312555{n:04d}", "body": f"m{n}", "dlr_callback": "https://example.com/dlr"},
            "/data/attributes",
        )
        async with deps.db.transaction() as connection:
            await service.accept(
                connection, account, sent, sender, [], model.new_message_id(), prices=Prices(), now=now
            )
    claimed = await jobs.claim(deps.db, "w1", now=now, lease_us=10_000_000, limit=count)
    messages = await repository.by_ids(deps.db, [job.payload["message_id"] for job in claimed])
    return [
        delivery.Submitted(
            job,
            messages[job.payload["message_id"]],
            "test",
            tuple(f"id-{job.id}-{part}" for part in "ab"[:parts]),
            None,
            [jobs.job_params("scheduled_receipt", {"of": job.id}, now=now)],
        )
        for job in claimed
    ]


async def receipt_jobs(deps: Deps, reports: list[tuple[str, str]], *, now: int, **forced: object) -> list[Job]:
    """The carrier `test`'s receipts (carrier id, state), each a receipt job, claimed together in job order;
    `forced`: fields every receipt carries (see CarrierReceipt)."""
    async with deps.db.transaction() as connection:
        for carrier_id, state in reports:
            receipt = CarrierReceipt("test", carrier_id, state, **forced)  # type: ignore[arg-type]
            await tasks.enqueue_receipt(connection, receipt, now=now)
    claimed = await jobs.claim(deps.db, "w1", now=now, lease_us=10_000_000, limit=len(reports))
    return sorted(claimed, key=lambda job: job.id)
