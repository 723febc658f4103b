"""Invariants of the sandbox's identity keys (domains, emails, deal names), with Hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from importer.sandbox.validation import name_key, normalise_domain, normalise_email

# No per-example deadline: these are pure functions, but the machine may be busy.
relaxed = settings(deadline=None)

label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
domains = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(label, min_size=1, max_size=3).filter(lambda ls: ls[0] != "www"),
    st.from_regex(r"[a-z]{2,6}", fullmatch=True),
)


@relaxed
@given(
    domains,
    st.sampled_from(["", "http://", "https://", "HTTPS://", "//"]),
    st.booleans(),
    st.sampled_from(["", "/", "/about?x=1", ":8080/path"]),
    st.booleans(),
)
def test_every_spelling_of_a_domain_has_one_key(domain, scheme, www, suffix, upper):
    spelled = f"{scheme}{'www.' if www else ''}{domain}{suffix}"

    assert normalise_domain(spelled.upper() if upper else spelled) == domain


@relaxed
@given(domains)
def test_domain_normalisation_is_idempotent(domain):
    once = normalise_domain(domain)

    assert once is not None and normalise_domain(once) == once


@relaxed
@given(st.from_regex(r"[a-z0-9]([a-z0-9._+-]{0,15}[a-z0-9])?", fullmatch=True), domains)
def test_email_key_ignores_case_and_surrounding_space(local, domain):
    email = f"{local}@{domain}"
    if ".." in local:
        return

    assert normalise_email(f"  {email.upper()} ") == email


@relaxed
@given(st.text(min_size=1).filter(str.strip))
def test_deal_name_key_ignores_surrounding_and_repeated_spaces(name):
    assert name_key(f"  {name}  ") == name_key(name.replace(" ", "   ")) == name_key(name)


def test_deal_name_key_ignores_case():
    assert name_key("Acme  Corp DEAL") == name_key("acme corp deal")
