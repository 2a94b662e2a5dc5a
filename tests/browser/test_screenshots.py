"""The README's screenshot script keeps working: it is run by hand, so the suite runs it too."""

from __future__ import annotations

from tests.browser.screenshots import capture

from .test_archive_browser import PNG


async def test_the_script_writes_a_png_of_the_demonstration_threads(tmp_path):
    """capture() runs the daemon over the invented posts and writes threads.png, 1024 pixels wide."""
    (tmp_path / "work").mkdir()
    path = await capture(tmp_path / "work", tmp_path / "out")
    header = path.read_bytes()[:24]
    assert path == tmp_path / "out" / "threads.png"
    assert header[:8] == PNG and int.from_bytes(header[16:20], "big") == 1024
