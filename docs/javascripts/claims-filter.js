// The claims page's filters: a row stays visible when it matches the chosen verdict and paper.
// Material's instant navigation swaps pages without a reload, so it is wired on every page load.
document$.subscribe(() => {
  const verdict = document.getElementById("claims-verdict-filter");
  const paper = document.getElementById("claims-paper-filter");
  if (!verdict || !paper) return;
  const rows = Array.from(document.querySelectorAll("#claims-table tbody tr"));
  const shown = document.getElementById("claims-shown");
  const apply = () => {
    for (const row of rows) {
      row.hidden = (verdict.value !== "" && row.dataset.verdict !== verdict.value)
        || (paper.value !== "" && row.dataset.paper !== paper.value);
    }
    shown.textContent = `${rows.filter((row) => !row.hidden).length} of ${rows.length} claims shown`;
  };
  verdict.addEventListener("change", apply);
  paper.addEventListener("change", apply);
  apply();
});
