// MathJax 3 for both kinds of page. Note pages carry arithmatex spans; notebook pages carry raw
// $...$ inside .jupyter-wrapper, which the standard recipe ignores, so that class is processed too.
window.MathJax = {
  tex: {
    inlineMath: [["$", "$"], ["\\(", "\\)"]],
    displayMath: [["$$", "$$"], ["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: "md-typeset|tex2jax_ignore",
    processHtmlClass: "arithmatex|jupyter-wrapper|tex2jax_process",
  },
};

// Material's instant navigation swaps page content without a reload: typeset again each time.
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    if (!window.MathJax.startup || !window.MathJax.typesetPromise) return;
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    MathJax.typesetPromise();
  });
}
