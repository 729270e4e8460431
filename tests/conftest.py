"""The suite's fixtures, registered once for every test directory."""

# pytest reads `pytest_plugins` only in the top-level conftest.

pytest_plugins = [
    "tests.support.fixtures.keys",
    "tests.support.fixtures.database",
    "tests.support.fixtures.app",
    "tests.server.review_fixtures",
    "tests.server.custody_fixtures",
    "tests.bundle_fixtures",
    "tests.server.web.pages",
    "tests.server.web.browser",
]
