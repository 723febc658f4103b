"""E-mail addresses: real multi-value cells, display names, mailto, errors."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from importer.map.transforms import build_transform
from importer.map.transforms.cells import TransformError


def email(value, **params):
    return build_transform("email", params)(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("lubicogfeg@gmail.com", "lubicogfeg@gmail.com"),  # hubspot AU contacts
        ("b.a.y.ep.v.geienooz@gmail.com", "b.a.y.ep.v.geienooz@gmail.com"),  # pipedrive
        ("lkramer@rema-tiptop.com.au", "lkramer@rema-tiptop.com.au"),  # apollo ANZ
        ("alessandro_chaudhry@blackrock.com", "alessandro_chaudhry@blackrock.com"),
        ("thomas.hansen@omnicommediagroup.com.ec", "thomas.hansen@omnicommediagroup.com.ec"),
        ("ZoeS@madebyteam.co.uk", "zoes@madebyteam.co.uk"),
        # pipedrive/people-export-uk-print.csv: comma-joined multi-value cells
        (
            "accounts@bloomfieldprinters.co.uk, enquiries@bloomfieldprinters.co.uk",
            "accounts@bloomfieldprinters.co.uk",
        ),
        (
            "daniir.lulton@northdevon.gov.uk, Print.Moretker@northdevon.gov.uk",
            "daniir.lulton@northdevon.gov.uk",
        ),
        # hubspot/deals-export-all-properties-with-associations.csv: "Name (email)", ;-joined
        ("Carmen Maddox (cmaddox@mtnskyumc.org)", "cmaddox@mtnskyumc.org"),
        (
            "Fiona Shah (fiona@innovative-business.net);"
            "Rosa Olsen (rolsen@innovative-business.net)",
            "fiona@innovative-business.net",
        ),
        ("ucpvamuuwaykzoty@gmail.com;vp@alpharoofingusa.com", "ucpvamuuwaykzoty@gmail.com"),
    ],
)
def test_real_export_emails(value, expected):
    assert email(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Jo@Acme.COM \u00a0", "jo@acme.com"),
        ("mailto:jo@acme.com", "jo@acme.com"),
        ("MAILTO:Jo@Acme.com?subject=Hi", "jo@acme.com"),
        ("Jo Smith <jo@acme.com>", "jo@acme.com"),
        ('"Smith, Jo" <jo@acme.com>', "jo@acme.com"),
        ("<jo@acme.com>", "jo@acme.com"),
        ("jo@acme.com.", "jo@acme.com"),  # end of a sentence
        ("jo@acme.com | ann@acme.com", "jo@acme.com"),
        ("jo@acme.com ann@acme.com", "jo@acme.com"),
        ("jo@acme.com\nann@acme.com", "jo@acme.com"),
        ("'jo@acme.com'", "jo@acme.com"),
        ("jo@acme.com\u200b", "jo@acme.com"),
        ("o'connor@acme.ie", "o'connor@acme.ie"),
        ("jo+crm@acme.com", "jo+crm@acme.com"),
        ("jörg@münchen.de", "jörg@xn--mnchen-3ya.de"),  # the IDNA form Octolane stores
        ("x@xn--mnchen-3ya.de", "x@xn--mnchen-3ya.de"),
    ],
)
def test_first_address(value, expected):
    assert email(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a@xy.com, B@xy.com, a@xy.com", ["a@xy.com", "b@xy.com"]),
        (
            "erkd@dcopy.co.uk, pablo@dcopy.biz, info@dcopy.biz",
            ["erkd@dcopy.co.uk", "pablo@dcopy.biz", "info@dcopy.biz"],
        ),
        ("Fiona Shah (fiona@xy.net);Rosa Olsen (rolsen@xy.net)", ["fiona@xy.net", "rolsen@xy.net"]),
        ("jo@acme.com", ["jo@acme.com"]),
    ],
)
def test_all_addresses(value, expected):
    assert email(value, all=True) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("email", "'email' is not an email address"),  # pipedrive/people-export-uk-print.csv
        ("sir wplck@netvigator.com", "'sir wplck@netvigator.com' is not an email address"),  # same
        ("n/a", "'n/a' is not an email address"),
        ("null", "'null' is not an email address"),
        ("[not provided]", "'[not provided]' is not an email address"),
        ("john", "'john' is not an email address"),
        ("john@", "'john@' is not an email address"),
        ("@acme.com", "'@acme.com' is not an email address"),
        ("jo@acme", "'jo@acme' is not an email address"),
        ("jo@@acme.com", "'jo@@acme.com' is not an email address"),
        ("jo..smith@acme.com", "'jo..smith@acme.com' is not an email address"),
        (".jo@acme.com", "'.jo@acme.com' is not an email address"),
        ("jo@acme..com", "'jo@acme..com' is not an email address"),
        ("jo@-acme.com", "'jo@-acme.com' is not an email address"),
        ("jo@acme.c", "'jo@acme.c' is not an email address"),
        ("jo@acme.123", "'jo@acme.123' is not an email address"),
        ("john smith@acme.com", "'john smith@acme.com' is not an email address"),
        ("john at acme dot com", "'john at acme dot com' is not an email address"),
        ("jo@acme, ann@acme.com", "'jo@acme' in 'jo@acme, ann@acme.com' is not an email address"),
        ("a" * 250 + "@acme.com", "is not an email address"),
    ],
)
def test_errors_quote_the_value(value, message):
    with pytest.raises(TransformError) as info:
        email(value)
    assert message in str(info.value)


def test_none_and_empty_are_no_value():
    assert email(None) is None
    assert email("") is None
    assert email(None, all=True) is None


local = st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9._+'-]{0,20}[a-zA-Z0-9]", fullmatch=True).filter(
    lambda s: ".." not in s
)
# (a one-letter or all-x domain name, i@a.com or hr@xx.com, is a placeholder: refused, and
# so is a name of one character typed two or three times, ie@aa.com, after a short user)
_label = st.from_regex(r"[a-z0-9]{2,10}", fullmatch=True).filter(
    lambda text: text.strip("x") and not (len(text) <= 3 and len(set(text)) == 1)
)
host = st.builds(
    lambda below, label, suffix: ".".join([*below, label, suffix]),
    st.lists(_label, max_size=2),
    _label,
    st.sampled_from(["com", "co.uk", "de", "io"]),
)


@given(local, host, st.sampled_from(["{}", " {} ", "Name <{}>", "mailto:{}", "{}, x@yz.com"]))
def test_found_addresses_are_lower_case_with_one_at(user, domain, template):
    # (a placeholder such as na@acme.com or x@x.com is refused: see the test below)
    assume(user.lower() not in {"na", "none", "null", "unknown", "noone", "nobody", "nomail"})
    assume(user.lower() not in domain.split("."))
    address = f"{user}@{domain}"
    result = email(template.format(address))
    assert result == address.lower()
    assert result.count("@") == 1 and result == result.lower()


@given(st.text(max_size=40))
def test_any_text_gives_an_address_or_a_transform_error(text):
    try:
        result = email(text)
    except TransformError:
        return
    assert result is None or (result.count("@") == 1 and result == result.lower())


@pytest.mark.parametrize(
    "cell",
    ["noemail@acme.com", "NONE@acme.com", "x@x.com", "i@a.com", "hr@xx.com", "ypk@xxx.com", "test@test.com", "jo@example.com",
     "Jo <unknown@acme.com>", "jo@acme.com, nobody@acme.com"],
)  # fmt: skip
def test_a_placeholder_address_is_refused_as_one(cell):
    with pytest.raises(TransformError, match="placeholder address"):
        email(cell, all="," in cell)


@pytest.mark.parametrize("cell", ["x@xerox.com", "test@acme.com", "n@acme.com", "info@acme.com"])
def test_real_addresses_that_look_short_are_kept(cell):
    assert email(cell) == cell
