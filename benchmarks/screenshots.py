"""Retakes the README's screenshots (widget with an answer and buttons, inbox conversation with transcript,
the analytics dashboard with a month of demo data, the FAQ pages' try-it box, the unanswered questions).

    .venv/bin/python benchmarks/screenshots.py [TEST_FILE …]   # default: all of TESTS

Runs the browser tests that take them (the full journey: real Rasa + actions, two headless Chromiums; the
dashboard: `bot.analytics_seed.seed_demo`) with `AUSKUNFT_SCREENSHOTS=docs/screenshots`, so the pictures
show exactly what the tests check.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
LIMIT = 300 * 1024  # docs live in git: keep each picture small
TESTS = [
    "tests/gateway/conversation/test_handoff_journey_browser.py",
    "tests/gateway/analytics/test_analytics_browser.py",
    "tests/gateway/admin/test_faq_browser.py",
    "tests/gateway/admin/test_admin_privacy_unanswered_browser.py",
]


def main() -> int:
    env = {**os.environ, "AUSKUNFT_SCREENSHOTS": str(OUT)}
    tests = sys.argv[1:] or TESTS
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], cwd=ROOT, env=env)
    if done.returncode:
        return done.returncode
    for png in sorted(OUT.glob("*.png")):
        size = png.stat().st_size
        print(f"{png.relative_to(ROOT)}: {size // 1024} KB")
        if size > LIMIT:
            print(f"  larger than {LIMIT // 1024} KB", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
