// The claims page's filters: a row stays visible when it matches the chosen verdict, paper and
// test kind. The choice lives in the address (?verdict=...&paper=...&test=...), so a view can be
// linked; an unknown value in the address is reported, not guessed at. A permalink (#claim-...)
// to a row that the filters would hide clears them. Material's instant navigation swaps pages
// without a reload, so this is wired on every page load.
document$.subscribe(() => {
  const table = document.getElementById("claims-table");
  if (!table) return;
  const filters = {
    verdict: document.getElementById("claims-verdict-filter"),
    paper: document.getElementById("claims-paper-filter"),
    test: document.getElementById("claims-test-filter"),
  };
  const rows = Array.from(table.querySelectorAll("tbody tr"));
  const shown = document.getElementById("claims-shown");
  const params = new URLSearchParams(window.location.search);
  const unknown = [];
  for (const [name, select] of Object.entries(filters)) {
    const wanted = params.get(name);
    if (wanted === null) continue;
    if (Array.from(select.options).some((option) => option.value === wanted)) select.value = wanted;
    else unknown.push(`${name}=${wanted}`);
  }
  const matches = (row) => Object.entries(filters).every(([name, select]) => select.value === "" || row.dataset[name] === select.value);
  const apply = () => {
    for (const row of rows) row.hidden = !matches(row);
    const count = rows.filter((row) => !row.hidden).length;
    const note = unknown.length ? ` (ignored unknown ${unknown.join(", ")}: choose from the lists)` : "";
    shown.textContent = `${count} of ${rows.length} claims shown${note}`;
  };
  const remember = () => {
    const query = new URLSearchParams();
    for (const [name, select] of Object.entries(filters)) if (select.value !== "") query.set(name, select.value);
    const search = query.toString();
    window.history.replaceState(null, "", `${window.location.pathname}${search ? `?${search}` : ""}${window.location.hash}`);
  };
  const target = window.location.hash && document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
  if (target && rows.includes(target) && !matches(target)) {
    for (const select of Object.values(filters)) select.value = "";
  }
  for (const select of Object.values(filters)) {
    select.addEventListener("change", () => {
      unknown.length = 0;
      apply();
      remember();
    });
  }
  apply();
});
