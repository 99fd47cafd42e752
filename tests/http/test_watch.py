"""The stacks' watch over their requests' time limits: one timer, many requests, none forgotten."""

from __future__ import annotations

import asyncio
import sys

from authing_mfa._http._watch import Watch


def test_every_overdue_wait_is_ended_and_no_finished_one():
    """Waits past their limit are cancelled as expired; a wait marked done never is."""

    async def main() -> None:
        watch = Watch()
        outcomes: dict[str, str] = {}
        started = asyncio.Event()

        async def wait(name: str, limit: float, *, finish_after: float | None = None) -> None:
            ticket = watch.watch(limit, 60)
            started.set()
            try:
                if finish_after is None:
                    await asyncio.sleep(30)
                else:
                    await asyncio.sleep(finish_after)
                    watch.done(ticket)  # the head arrived in time
                    await asyncio.sleep(limit * 2)  # past the limit: must not be cancelled now
                outcomes[name] = "finished"
            except asyncio.CancelledError:
                expired = ticket.expired()
                outcomes[name] = "expired" if expired else "cancelled from outside"
                if expired and sys.version_info >= (3, 11):
                    current = asyncio.current_task()
                    assert current is not None
                    assert current.cancelling() == 0  # the watch withdrew its request
            finally:
                watch.done(ticket)  # as the stack does whatever ends the request

        late = asyncio.create_task(wait("late", 0.4))
        await asyncio.wait_for(started.wait(), 10)
        early = asyncio.create_task(wait("early", 0.1))
        await asyncio.sleep(0)
        # A later wait with a nearer deadline moved the one timer forward.
        assert watch._when < asyncio.get_running_loop().time() + 0.2
        answered = asyncio.create_task(wait("answered", 0.1, finish_after=0.01))
        outside = asyncio.create_task(wait("outside", 5))
        await asyncio.sleep(0.05)
        outside.cancel()
        await asyncio.wait_for(asyncio.gather(late, early, answered, outside), 10)
        assert outcomes == {
            "late": "expired",
            "early": "expired",
            "answered": "finished",
            "outside": "cancelled from outside",
        }
        assert not watch._waiting  # every ticket left the watch
        watch.close()

    asyncio.run(main())


def test_a_connected_request_gets_its_timeout_again_from_then():
    """`connected` moves a wait's deadline to *timeout* after it: the head gets its own budget."""

    async def main() -> None:
        watch = Watch()
        outcomes: dict[str, str] = {}

        async def wait(name: str, connect_after: float | None) -> None:
            ticket = watch.watch(0.4, 60)
            try:
                if connect_after is not None:
                    await asyncio.sleep(connect_after)
                    watch.connected()  # as the stack's connector does
                await asyncio.sleep(0.5 - (connect_after or 0.0))  # 0.5 s from the start
                outcomes[name] = "finished"
            except asyncio.CancelledError:
                outcomes[name] = "expired" if ticket.expired() else "cancelled from outside"
            finally:
                watch.done(ticket)

        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(wait("connected at 0.3 s", 0.3), wait("never connected", None))
        assert outcomes == {"connected at 0.3 s": "finished", "never connected": "expired"}
        assert loop.time() - started < 3.0
        assert not watch._waiting
        watch.close()

    asyncio.run(main())


def test_connected_outside_a_watched_request_changes_nothing():
    """A connection made for a request the watch does not know (none of ours) is ignored."""

    async def main() -> None:
        watch = Watch()
        ticket = watch.watch(5, 60)
        deadline = ticket.deadline

        async def other() -> None:
            watch.connected()

        await asyncio.create_task(other())
        assert ticket.deadline == deadline
        watch.done(ticket)
        watch.done(ticket)  # twice, as the stack may: harmless
        assert not watch._waiting
        watch.close()

    asyncio.run(main())


def test_connected_never_moves_a_wait_past_the_end_of_its_budget():
    """A request that connects late gets its timeout again, but no more than its budget left."""

    async def main() -> None:
        watch = Watch()
        loop = asyncio.get_running_loop()
        started = loop.time()
        ticket = watch.watch(0.4, 0.5)
        try:
            await asyncio.sleep(0.3)
            watch.connected()  # a full timeout from here would end at 0.7 s
            assert ticket.deadline == ticket.end
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            assert ticket.expired()
        finally:
            watch.done(ticket)
        assert 0.45 <= loop.time() - started < 5  # ended, and not before its budget
        watch.close()

    asyncio.run(main())
