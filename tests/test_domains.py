"""Domains: registered domain from URLs/hosts/e-mails, IDNA, public suffixes, personal domains."""

from __future__ import annotations

import socket

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from importer.map.transforms import build_transform, domains, email_domain, is_personal_domain
from importer.map.transforms.cells import TransformError
from importer.map.transforms.domains import registered_domain


def domain(value, **params):
    return build_transform("domain", params)(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://www.ah.nl", "ah.nl"),  # apollo/accounts-export-benelux-tech.csv Website
        ("http://www.ing.com", "ing.com"),
        ("http://www.rema-tiptop.com.au", "rema-tiptop.com.au"),  # apollo ANZ
        ("http://www.cemix.co.nz", "cemix.co.nz"),
        ("http://www.rsav.co.in", "rsav.co.in"),  # apollo India
        ("https://disney.com", "disney.com"),  # apollo 2025 layout
        ("https://henrikchandraphilanthropies.org", "henrikchandraphilanthropies.org"),
        ("AppraisalMC.com", "appraisalmc.com"),  # hubspot/companies-appraisal.csv
        ("www.i40inc.com", "i40inc.com"),
        ("meadowsunion.org", "meadowsunion.org"),  # hubspot/companies-export-view-schools.csv
        ("kent.k12.wa.us", "kent.k12.wa.us"),  # k12.wa.us is a public suffix
        ("https://shermanbridge.com/", "shermanbridge.com"),  # contacts-with-company-assoc
        ("http://www.HubSpot.com", "hubspot.com"),
        ("http://www.fbchomeloans.com/dengel", "fbchomeloans.com"),
        ("http://ttps://www.centerstreetlending.com/", "centerstreetlending.com"),  # typo
        ("thomas.hansen@omnicommediagroup.com.ec", "omnicommediagroup.com.ec"),  # e-mail
        ("pziegler@stargroup.com.mx", "stargroup.com.mx"),
        ("javier@acornpress.co.uk", "acornpress.co.uk"),  # pipedrive people
    ],
)
def test_real_export_domains(value, expected):
    assert domain(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.shop.acme.co.uk/path", "acme.co.uk"),
        ("HTTPS://WWW.ACME.COM", "acme.com"),
        ("http://user:secret@www.acme.com:8080/a/b?q=1#frag", "acme.com"),
        ("acme.com:443", "acme.com"),
        ("//cdn.acme.com/x.js", "acme.com"),
        ("acme.com.", "acme.com"),
        ("www2.acme.com", "acme.com"),
        ("acme.com?utm_source=x", "acme.com"),
        ("acme.com#contact", "acme.com"),
        ("acme.com\\path", "acme.com"),
        ("ftp://files.acme.de", "acme.de"),
        ("mailto:jo@acme.io", "acme.io"),
        (" \u00a0www.acme.com\u200b ", "acme.com"),
        ("acme.com, acme.co.uk", "acme.com"),  # first of a multi-value cell
        ("acme.myshopify.com", "acme.myshopify.com"),  # private suffix: each shop is an account
        ("https://acme.github.io/docs", "acme.github.io"),
        ("foo.blogspot.com", "foo.blogspot.com"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("https://www.München.de/", "xn--mnchen-3ya.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("bücher.example.co.uk", "example.co.uk"),
        ("straße.de", "xn--strae-oqa.de"),  # IDNA 2008 (UTS 46 non-transitional)
        ("例え.jp", "xn--r8jz45g.jp"),
        ("www.acme。com", "acme.com"),  # ideographic full stop
        ("www.com", "www.com"),
    ],
)
def test_urls_and_hosts(value, expected):
    assert domain(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.shop.acme.co.uk/path", "shop.acme.co.uk"),
        ("www.acme.com", "acme.com"),
        ("www.www2.eu.acme.com", "eu.acme.com"),
        ("acme.myshopify.com", "acme.myshopify.com"),
    ],
)
def test_keep_subdomain(value, expected):
    assert domain(value, keep_subdomain=True) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("localhost", "'localhost' has no registrable domain (expected e.g. acme.com)"),
        ("n/a", "'n/a' has no registrable domain"),
        ("acme", "'acme' has no registrable domain"),
        ("Acme Inc", "'Acme Inc' has no registrable domain"),
        ("co.uk", "'co.uk' has no registrable domain"),
        ("myshopify.com", "'myshopify.com' has no registrable domain"),
        ("http://", "'http://' has no web domain in it"),
        ("https:///path", "'https:///path' has no web domain in it"),
        ("127.0.0.1", "'127.0.0.1' is an IP address, not a domain"),
        ("http://192.168.0.1:8080/admin", "is an IP address, not a domain"),
        ("[::1]", "'[::1]' is an IP address, not a domain"),
        ("my_site.com", "'my_site.com' is not a valid web domain"),
        ("-acme.com", "'-acme.com' is not a valid web domain"),
        ("acme..com", "'acme..com' is not a valid web domain"),
        ("☃.com", "'☃.com' is not a valid web domain"),
    ],
)
def test_errors_quote_the_value(value, message):
    with pytest.raises(TransformError) as info:
        domain(value)
    assert message in str(info.value)


def test_none_and_empty_are_no_value():
    assert domain(None) is None
    assert domain("") is None


def test_public_suffix_list_is_the_bundled_snapshot_offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the public suffix list reached for the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    domains._suffixes.cache_clear()  # loaded again, here, with no network
    assert domain("https://shop.offline-acme.co.uk/x") == "offline-acme.co.uk"
    assert domain("offline-acme.myshopify.com") == "offline-acme.myshopify.com"  # private
    assert domains._suffixes.cache_info().misses == 1  # the path ran


def test_repeated_values_are_memoised():
    domain("https://www.memo-test-acme.com/a")
    before = domains._registered.cache_info().hits
    domain("https://www.memo-test-acme.com/a")
    assert domains._registered.cache_info().hits == before + 1


label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
suffix = st.sampled_from(["com", "co.uk", "de", "com.au", "myshopify.com", "k12.wa.us", "io"])


@given(
    st.lists(label, min_size=1, max_size=3),
    suffix,
    st.sampled_from(["", "https://", "http://www."]),
)
def test_domain_is_idempotent(labels, tld, scheme):
    value = scheme + ".".join([*labels, tld]) + "/path"
    try:
        once = domain(value)
    except TransformError:
        assume(False)
    assert domain(once) == once
    assert once == once.lower() and once.endswith(tld)


@given(st.text(max_size=40))
def test_any_text_gives_a_domain_or_a_transform_error(text):
    try:
        result = domain(text)
    except TransformError:
        return
    assert result is None or (result.isascii() and "." in result and result == result.lower())


# ---- personal domains and e-mail domains ------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "gmail.com",
        "GMAIL.COM",
        "www.gmail.com",
        "googlemail.com",
        "hotmail.co.uk",  # hubspot/contacts-export-all-properties.csv "Email Domain"
        "bigpond.com",  # hubspot AU contacts: Telstra consumer mail
        "bellsouth.net",  # hubspot/contacts-with-company-assoc-appraisal.csv
        "btconnect.com",  # pipedrive UK people
        "sky.com",
        "yahoo.com",
        "mail.yahoo.com",  # subdomain of a listed domain
        "jo@hotmail.com",  # an address is accepted too
        "mailinator.com",  # disposable
        "10minutemail.co.uk",
        "gmx.de",
        "web.de",
        "qq.com",
        "za.com",  # listed itself
    ],
)
def test_personal_domains(value):
    assert is_personal_domain(value) is True


@pytest.mark.parametrize(
    "value",
    [
        "acme.com",
        "omnicommediagroup.com.ec",
        "fedex.com",
        "nasdaq.com",
        "acme.za.com",  # za.com is listed, but it is a (private) public suffix
        "https://mail.google.com/mail",  # google.com is a business domain
        "",
        "n/a",
    ],
)
def test_business_domains_are_not_personal(value):
    assert is_personal_domain(value) is False


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("lubicogfeg@gmail.com", "gmail.com"),
        ("Jo.Smith@Mail.Acme.co.uk", "acme.co.uk"),
        ("rebecca.ahmed@cemix.co.nz", "cemix.co.nz"),
        ("info@münchen.de", "xn--mnchen-3ya.de"),
        ("jo@localhost", None),
        ("not an address", None),
        ("", None),
        (None, None),
    ],
)
def test_email_domain(email, expected):
    assert email_domain(email) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://www.linkedin.com/company/acme",
        "sites.google.com/view/acme-school",
        "sites.google.com",  # hubspot/companies-export-view-schools.csv
        "http://www.google.com/profiles/797502782658386380527",
        "facebook.com/acme",
        # pipedrive/deals-export-custom-fields-nyc-offices.csv's picture columns
        "https://www.dropbox.com/s/q1w2e3/7%20Fifth%20Ave.jpg?dl=0",
        "https://app.box.com/s/abc123",
        "bit.ly/3xYz",
    ],
)
def test_a_page_on_a_platform_is_not_a_company_domain(text):
    with pytest.raises(TransformError, match="not the company's own web site"):
        registered_domain(text)


@pytest.mark.parametrize(
    "text", ["jo@linkedin.com", "https://www.linkedin.com/", "google.com", "dropbox.com"]
)
def test_the_platforms_own_domain_still_is(text):
    assert registered_domain(text) in {"linkedin.com", "google.com", "dropbox.com"}


@pytest.mark.parametrize(
    "text",
    [
        "https://neighborhood-listing-images.s3.us-east-2.amazonaws.com/67-fifth/1.jpg",
        "https://listing-images.s3.amazonaws.com/a.png",
        "d111111abcdef8.cloudfront.net/logo.svg",
        "https://lh3.googleusercontent.com/a/photo",
    ],
)
def test_a_file_on_a_storage_host_is_not_a_company_domain(text):
    """Each bucket is its own registrable domain in the public suffix list: without this
    a column of pictures made one account per bucket (a real Pipedrive export)."""
    with pytest.raises(TransformError, match="a storage host"):
        registered_domain(text)


@pytest.mark.parametrize(
    "value",
    ["aol.co.uk", "jo@aol.co.uk", "btopenworld.com", "prodigy.net.mx", "yahoo.co.in",
     "btinternet.com", "web.de", "gmx.net", "gmx.us", "mail.ru", "qq.com", "mail.yahoo.co.in"],
)  # fmt: skip
def test_regional_free_mail_is_personal(value):
    """The issue's list, and what the packages' lists miss (real UK exports use them)."""
    assert is_personal_domain(value) is True


@pytest.mark.parametrize(
    ("value", "account"),
    [
        ("sf.k12.sd.us", "sf.k12.sd.us"),
        ("https://www.mobridge-pollock.k12.sd.us/about", "mobridge-pollock.k12.sd.us"),
        ("k12.wv.us", "k12.wv.us"),
        ("acme.sharpschool.com", "acme.sharpschool.com"),
        ("news.acme.weebly.com", "acme.weebly.com"),
        ("www.weebly.com", "weebly.com"),
        ("dr-li.business.site", "dr-li.business.site"),
        ("lib.state.tx.us", "lib.state.tx.us"),
        ("shop.acme.com", "acme.com"),  # one company's own subdomain: cut back
        ("acme.github.io", "acme.github.io"),  # the public suffix list's private section
        # marketing-site builders: two bakeries were one account 'hs-sites.com'
        ("https://alpha-bakery.hs-sites.com", "alpha-bakery.hs-sites.com"),
        ("omega.hs-sites.com/about", "omega.hs-sites.com"),
        ("acme.odoo.com", "acme.odoo.com"),
        ("www.odoo.com", "odoo.com"),
        ("news.acme.substack.com", "acme.substack.com"),
    ],
)
def test_a_host_on_a_shared_zone_is_its_own_account(value, account):
    """Issue 10, point 1 (in part): hosting platforms, site builders and US school and state
    zones are shared by many organisations; cutting a host back to them would merge them."""
    assert build_transform("domain")(value) == account


@pytest.mark.parametrize(
    ("host", "registered"),
    [
        ("shop.xn--80ak6aa92e.xn--p1ai", "xn--80ak6aa92e.xn--p1ai"),  # .рф
        ("a.b.xn--o1ac.xn--90a3ac", "b.xn--o1ac.xn--90a3ac"),  # .пр.срб: a two-label IDN suffix
        ("b.xn--55qx5d.cn", "b.xn--55qx5d.cn"),  # 公司.cn
        ("www.xn--bcher-kva.xn--tckwe", "xn--bcher-kva.xn--tckwe"),  # bücher.コム
        ("xn--zz.com", "xn--zz.com"),  # not valid punycode: an ordinary label
    ],
)
def test_idna_hosts_split_at_their_unicode_suffixes(host, registered):
    assert domains._registrable(host) == registered


def test_a_host_that_is_an_idna_public_suffix_has_no_registrable_domain():
    assert domains._registrable("xn--o1ac.xn--90a3ac") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # school and site platforms whose every host, however deep, is one school's site
        # (hubspot/companies-export-view-schools.csv): cut, they were one account each
        ("rustonjunior.webs.com", "rustonjunior.webs.com"),
        ("ilioncsd.11gb881.remote.schoolcenter.com", "ilioncsd.11gb881.remote.schoolcenter.com"),
        ("nashwauk.new.rschooltoday.com", "nashwauk.new.rschooltoday.com"),
        ("flaglerschools.co.afs.schoolinsites.com", "flaglerschools.co.afs.schoolinsites.com"),
        ("northeast.socs.net", "northeast.socs.net"),
        ("dottorbaillsen.imedia-web.it", "dottorbaillsen.imedia-web.it"),
        ("https://www.webs.com/", "webs.com"),  # the platform's own site is the platform's
    ],
)
def test_a_site_on_a_school_or_site_platform_is_its_own_account(value, expected):
    assert domain(value) == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        # pages on a site builder's or a directory's own host: each is a different
        # practitioner (hubspot/contacts-export-doctors-it.xlsx), none owns the domain
        ("https://www.docvadis.it/studio.nadiajensilar/", "is a page on docvadis.it"),
        ("https://www.7link.it/attivita/studio-x", "is a page on 7link.it"),
        ("miodottore.it/vivian-x", "is a page on miodottore.it"),
        ("https://www.hardmoneyhome.com/lenders/view/do-hard-money", "is a page on hardmoney"),
        ("benacusdentalclinique.com.com", "a typo of a domain ending"),
    ],
)
def test_a_page_on_a_shared_host_or_a_doubled_ending_names_no_company(value, says):
    with pytest.raises(TransformError, match=says):
        domain(value)
    assert domain("elemmavarsen.docvadis.it") == "elemmavarsen.docvadis.it"  # a site: kept


@pytest.mark.parametrize(
    "address",
    # internet providers' mail and carriers' text gateways (pipedrive/people-export-uk-print
    # .csv: eim.ae held three firms' people), and misspelt free-mail
    ["ads@eim.ae", "x@emirates.net.ae", "5551234@vtext.com", "jo@zen.co.uk", "a@googelmail.com"],
)
def test_a_providers_mail_domain_is_personal(address):
    assert is_personal_domain(address)
