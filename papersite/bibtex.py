"""BibTeX for a note's paper, built from the front matter every note already has.

A note may set ``bibtex:`` to a complete entry of its own (e.g. a journal article whose
fields the generic entry cannot express); otherwise the entry is an ``@misc`` from title,
authors, year, venue and arxiv or url. ``@misc`` is valid for any kind of publication.
"""

import re
import unicodedata

_LATEX_SPECIAL = re.compile(r"([&%$#_])")


def _escape(text: str) -> str:
    return _LATEX_SPECIAL.sub(r"\\\1", str(text))


def _ascii_words(text: str) -> list[str]:
    """Lowercase ASCII words: citation keys must survive every BibTeX implementation."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z]+", folded.lower())


def citation_key(meta: dict) -> str:
    """Google Scholar's style: first author's family name, year, first long title word."""
    family = "".join(_ascii_words(meta["authors"][0].split()[-1]))
    words = _ascii_words(meta["title"])
    first_word = next((w for w in words if len(w) > 3), words[0] if words else "")
    return f"{family}{meta['year']}{first_word}"


def bibtex_entry(meta: dict) -> str:
    if meta.get("bibtex"):
        return str(meta["bibtex"]).strip()
    fields = [
        ("title", "{" + _escape(meta["title"]) + "}"),  # inner braces keep the title's capitals
        ("author", " and ".join(_escape(a) for a in meta["authors"])),
        ("year", str(meta["year"])),
        ("howpublished", _escape(meta["venue"])),
    ]
    if meta.get("arxiv"):
        fields += [("eprint", meta["arxiv"]), ("archiveprefix", "arXiv"), ("url", f"https://arxiv.org/abs/{meta['arxiv']}")]
    elif meta.get("url"):
        fields.append(("url", meta["url"]))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{citation_key(meta)},\n{body}\n}}"


def cite_markdown(meta: dict) -> str:
    """A collapsed 'Cite' block with the entry, for the end of a note page."""
    entry = "\n".join(f"    {line}" for line in ("```bibtex", *bibtex_entry(meta).splitlines(), "```"))
    return f'??? quote "Cite this paper (BibTeX)"\n\n{entry}\n'
