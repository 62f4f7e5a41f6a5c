"""The search page: snippets with the words marked, facets as links that keep the URL, JSON and CSV linked."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import parse_qs, urlsplit


def get(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def test_the_search_page_marks_the_words_found_and_links_the_downloads(seeded_app):
    page = get(seeded_app.test_client(), "/search?q=%22feuille+de+route%22")
    assert "<mark>feuille de route</mark>" in page
    assert "1 fact found" in page
    assert 'href="/search.csv?q=%22feuille+de+route%22"' in page
    assert 'href="/api/search?q=%22feuille+de+route%22"' in page
    assert "Agreement adopted" in page and "AgreementAdopted<" not in page  # types in words


def test_a_facet_link_narrows_and_keeps_the_query_in_the_url(seeded_app):
    client = seeded_app.test_client()
    page = get(client, "/search?q=jeanne")
    links = [html_lib.unescape(h) for h in re.findall(r'<ul class="plain facet" data-facet="kind">(.*?)</ul>', page,
                                                      re.S)[0].split('href="')[1:]]
    target = links[0].split('"')[0]
    assert parse_qs(urlsplit(target).query) == {"q": ["jeanne"], "kind": ["exercise"]}
    narrowed = get(client, target)
    assert '<input type="hidden" name="kind" value="exercise">' in narrowed  # a new search keeps the filter
    assert "remove" in narrowed


def test_the_empty_form_and_a_query_of_nothing(seeded_app):
    client = seeded_app.test_client()
    assert 'role="search"' in get(client, "/search")
    assert "q: give at least one word" in get(client, "/search?q=%2A%2A", 400)
    assert "Nothing matches" in get(client, "/search?q=zzyzx")


def test_every_page_can_reach_search(seeded_app):
    assert '<a href="/search"' in get(seeded_app.test_client(), "/")
