// Accessibility fixes the theme and nbconvert leave to the site (found by the axe audit in
// tests/test_browser.py):
// - Material's search is a dialog without a name;
// - a box that scrolls sideways (a wide table, a long code line in a notebook) must be
//   reachable from the keyboard, so it gets tabindex="0".
const SCROLLABLE = ".md-typeset__scrollwrap, .highlight-ipynb, .jp-OutputArea-output pre";

function improveAccessibility() {
  for (const search of document.querySelectorAll(".md-search[role='dialog']:not([aria-label])")) {
    search.setAttribute("aria-label", "Search");
  }
  for (const box of document.querySelectorAll(SCROLLABLE)) {
    if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
  }
}

document$.subscribe(() => {
  improveAccessibility();
  window.setTimeout(improveAccessibility, 0); // after Material has wrapped the tables
});
