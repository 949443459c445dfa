"""Sign-in that works, in headless Chromium against a real OpenID Connect provider on localhost
(`oidc-provider-mock`, started and stopped inside the test): a hosted server configured the way
docs/hosting.md tells a deployer, two learners signing in and out with separate progress, an
instructor who sees the class view and a learner who is refused it."""

import warnings

import pytest
from playwright.sync_api import Page, expect

from study.class_view import pseudonym
from study.store import ProgressStore
from tests.e2e.conftest import _free_port, review_one_card

SECRETS = """
[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "a-long-random-secret-for-the-test-only"
client_id = "viva-drill"
client_secret = "any-secret-the-mock-accepts"
server_metadata_url = "{issuer}/.well-known/openid-configuration"

[class_view]
instructor_emails = ["teacher@example.com"]
"""


@pytest.fixture
def provider():
    try:
        with warnings.catch_warnings():  # it imports Authlib modules that Authlib now marks deprecated: theirs, not ours
            import authlib.deprecate  # noqa: F401  (installs an "always" filter for its warnings; ours goes in front of it)

            warnings.simplefilter("ignore", DeprecationWarning)
            import oidc_provider_mock as mock
    except ImportError:
        pytest.skip("oidc-provider-mock is not installed (requirements-dev.txt)")
    with mock.run_server_in_thread() as server:  # stopped when the test ends
        yield f"http://localhost:{server.server_port}"


def _sign_in(page: Page, url: str, subject: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_placeholder("sub").fill(subject)  # the provider's own login form
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text(f"Signed in as {subject}")).to_be_visible(timeout=60_000)


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    end_session = page.get_by_role("button", name="End session")  # the provider may ask to end its session too
    expect(page.get_by_role("heading", name="Sign in").or_(end_session)).to_be_visible(timeout=60_000)
    if end_session.is_visible():
        end_session.click()
        page.goto(page.url.split("/oauth2")[0])
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def _reviewing_profiles(db) -> dict[str, int]:
    store = ProgressStore(db)
    return {p: len(store.reviews(p)) for p in store.profiles() if store.reviews(p)}


@pytest.mark.slow
# The provider runs in this process, on Authlib APIs that Authlib now marks deprecated (theirs, not ours).
@pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib", "ignore::DeprecationWarning:oidc_provider_mock")
def test_learners_sign_in_and_out_and_only_an_instructor_sees_the_class(start_server, browser, provider, tmp_path):
    port = _free_port()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(SECRETS.format(port=port, issuer=provider))
    url, db = start_server(hosted=True, args=f"--secrets.files {secrets}", port=port, host="localhost")

    page = browser.new_context().new_page()
    _sign_in(page, url, "ana@example.com")
    review_one_card(page, url)
    _sign_out(page)
    page.goto(f"{url}/progress")  # signed out, nothing of ana's is shown: only the sign-in page
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Reviews per day")).to_have_count(0)

    _sign_in(page, url, "ben@example.com")  # the same browser: a second learner after the first signed out
    page.goto(f"{url}/progress")
    expect(page.get_by_text("No reviews yet")).to_be_visible(timeout=60_000)
    review_one_card(page, url)
    reviews = _reviewing_profiles(db)
    assert sorted(reviews.values()) == [1, 1] and all(p.startswith("user-") for p in reviews)  # two learners, one review each
    page.goto(f"{url}/class_view")
    expect(page.get_by_text("The class view is for the class's instructors")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Retention by topic")).to_have_count(0)
    _sign_out(page)

    teacher = browser.new_context().new_page()
    _sign_in(teacher, url, "teacher@example.com")
    teacher.goto(f"{url}/class_view")
    expect(teacher.get_by_text("Retention by topic")).to_be_visible(timeout=60_000)
    for profile in reviews:
        expect(teacher.get_by_text(pseudonym(profile))).to_be_visible()
    expect(teacher.get_by_text("ana@example.com")).to_have_count(0)  # pseudonymous by default
    expect(teacher.get_by_role("button", name="Export as CSV")).to_be_visible()
