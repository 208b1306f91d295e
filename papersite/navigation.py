"""The site's navigation: by paper, each paper once, its note and its companion under it.

mkdocs builds a navigation from the folders (a Notes tree and a Companions list side by
side); this replaces it with: Home, Papers (the index, then topics, then one section per
paper holding its note and its companion), Claims, Execution statistics, Tags, and any other
page after those. With Material's ``navigation.tabs`` the top level becomes the tabs.
"""

from mkdocs.structure.nav import Navigation, Section, _add_parent_links, _add_previous_and_next_links, _get_by_type
from mkdocs.structure.pages import Page

from papersite.notes import topic_title

NOTE_TITLE, COMPANION_TITLE = "Note", "Companion notebook"


def by_paper(nav: Navigation, files, notes, layout, top_pages) -> Navigation:
    """A navigation with each paper once; ``top_pages`` are (src_uri, title) after Papers."""
    def page(uri: str):
        file = files.get_file_from_path(uri)
        return file.page if file is not None else None

    placed = set()
    topics: dict[str, list] = {}
    for note in sorted(notes, key=lambda n: (n.meta["title"].lower())):
        children = []
        for uri, title in ((layout.note_uri(note.path), NOTE_TITLE), (layout.twin_uri(note.slug), COMPANION_TITLE)):
            if (entry := page(uri)) is not None:
                entry.title = title  # the section carries the paper's title; the HTML <title> keeps the page's own
                children.append(entry)
                placed.add(uri)
        topics.setdefault(note.topic, []).append(Section(note.meta["title"], children))
    index, papers_index = page("index.md"), page(top_pages[0][0])
    papers = Section("Papers", [papers_index] + [Section(topic_title(t), topics[t]) for t in sorted(topics)])
    placed |= {"index.md", top_pages[0][0]}
    items = [index, papers] if index is not None else [papers]
    for uri, title in top_pages[1:]:
        if (entry := page(uri)) is not None:
            entry.title = title
            items.append(entry)
            placed.add(uri)
    items += [p for p in _get_by_type(nav.items, Page) if p.file.src_uri not in placed]  # any other page, last
    nav.items = items
    _add_parent_links(items)
    for item in items:
        if not item.is_section:
            item.parent = None
    nav.pages = _get_by_type(items, Page)
    _add_previous_and_next_links(nav.pages)
    return nav
