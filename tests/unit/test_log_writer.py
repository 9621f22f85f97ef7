"""kit/log_writer.py: the lines of one event-loop turn are written together, in order, at the next turn."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading

from telroute.kit.log_writer import TurnWriter


class Recording:
    """A text stream that remembers each write."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_outside_an_event_loop_a_line_is_written_at_once() -> None:
    stream = Recording()
    writer = TurnWriter(stream)
    writer.info("one")
    writer.error("two")
    assert stream.writes == ["one\n", "two\n"]


async def test_the_lines_of_a_turn_are_written_in_one_write_at_the_next_turn() -> None:
    stream = Recording()
    writer = TurnWriter(stream)
    writer.info("accepted")
    writer.warning("submitted")
    writer.msg("delivered")
    assert stream.writes == []
    await asyncio.sleep(0)
    assert stream.writes == ["accepted\nsubmitted\ndelivered\n"]
    writer.info("next turn")
    await asyncio.sleep(0)
    assert stream.writes[1:] == ["next turn\n"]


async def test_flush_writes_what_waits_for_the_end_of_the_turn() -> None:
    stream = Recording()
    writer = TurnWriter(stream)
    writer.info("last words")
    writer.flush(asyncio.get_running_loop())
    assert stream.writes == ["last words\n"]
    await asyncio.sleep(0)
    assert stream.writes == ["last words\n"]  # not twice


def test_each_thread_s_loop_writes_its_own_lines() -> None:
    stream = Recording()
    writer = TurnWriter(stream)

    async def log(name: str) -> None:
        writer.info(f"{name} 1")
        writer.info(f"{name} 2")
        await asyncio.sleep(0)

    threads = [threading.Thread(target=asyncio.run, args=(log(name),)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(stream.writes) == ["a 1\na 2\n", "b 1\nb 2\n"]


def test_a_process_whose_loop_ends_right_after_logging_loses_no_line() -> None:
    """Lines logged in the loop's last turn (and in a loop closed before its next turn) are written at exit."""
    program = textwrap.dedent(
        """
        import asyncio, sys
        from telroute.kit.log_writer import TurnWriter
        writer = TurnWriter(sys.stdout)
        loop = asyncio.new_event_loop()
        loop.call_soon(writer.info, "in the last turn")
        loop.call_soon(loop.stop)
        loop.run_forever()
        loop.close()
        async def main():
            writer.info("at the end of asyncio.run")
        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout.splitlines() == ["in the last turn", "at the end of asyncio.run"]
