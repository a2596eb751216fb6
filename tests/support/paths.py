"""Where things are, for tests and benchmarks wherever they sit in the tree."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"
VECTORS = TESTS / "vectors"
DOCS = ROOT / "docs"
