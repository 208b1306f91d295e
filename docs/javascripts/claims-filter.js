// The claims page's verdict filter: hides the rows whose data-verdict differs from the choice.
// Material's instant navigation swaps pages without a reload, so it is wired on every page load.
document$.subscribe(() => {
  const select = document.getElementById("claims-verdict-filter");
  if (!select) return;
  const rows = Array.from(document.querySelectorAll("#claims-table tbody tr"));
  const shown = document.getElementById("claims-shown");
  const apply = () => {
    for (const row of rows) row.hidden = select.value !== "" && row.dataset.verdict !== select.value;
    shown.textContent = `${rows.filter((row) => !row.hidden).length} of ${rows.length} claims shown`;
  };
  select.addEventListener("change", apply);
  apply();
});
