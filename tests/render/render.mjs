// Render TeX strings with the real engines and report, per string, each engine's error.
//
//   node render.mjs INPUT.json        (or the JSON on stdin)
//
// INPUT is a JSON list of items, each a TeX string (display maths) or {"tex": ..., "display":
// false} for inline maths. The output, on stdout, is a JSON list with one object per item:
// {"mathjax-jupyterlab": null | "error", "mathjax-tex-chtml": ..., "katex": ...}.
//
// Engines:
// - mathjax-jupyterlab: MathJax 3's TeX input with the packages JupyterLab 4 loads (every
//   package of mathjax-full's AllPackages, textmacros included), minus noerrors and
//   noundefined, so that an error or an undefined macro throws instead of printing in red;
// - mathjax-tex-chtml: the packages of MathJax's own tex-chtml component (base, ams,
//   newcommand, configmacros; no textmacros), what most pages and Jupyter front ends without
//   their own configuration get;
// - katex: katex.renderToString with throwOnError and strict "error".
// For both MathJax set-ups a backslash that ends up in the text of the rendered maths counts as
// an error too: without textmacros MathJax shows `\text{a\_b}` literally instead of failing.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { CHTML } = require("mathjax-full/js/output/chtml.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
const { AllPackages } = require("mathjax-full/js/input/tex/AllPackages.js");
const { STATE } = require("mathjax-full/js/core/MathItem.js");
const { SerializedMmlVisitor } = require("mathjax-full/js/core/MmlTree/SerializedMmlVisitor.js");
const katex = require("katex");

RegisterHTMLHandler(liteAdaptor());
const visitor = new SerializedMmlVisitor();

function mathjaxEngine(packages) {
  const tex = new TeX({
    packages,
    formatError: (jax, err) => { throw err; },
  });
  // JupyterLab's CHTML output jax (bussproofs needs one that measures boxes); converting up
  // to the internal MathML is enough to meet every TeX error, and three times faster.
  const doc = mathjax.document("", { InputJax: tex, OutputJax: new CHTML({ fontURL: "." }) });
  return (source, display) => {
    const mml = visitor.visitTree(doc.convert(source, { display, end: STATE.COMPILED }));
    const literal = /<mtext[^>]*>([^<]*\\[^<]*)<\/mtext>/.exec(mml);
    if (literal) {
      throw new Error(`text shows a literal backslash: ${JSON.stringify(literal[1])}`);
    }
  };
}

const engines = {
  "mathjax-jupyterlab": mathjaxEngine(
    AllPackages.filter((name) => name !== "noerrors" && name !== "noundefined")),
  "mathjax-tex-chtml": mathjaxEngine(["base", "ams", "newcommand", "configmacros"]),
  katex: (source, display) => {
    katex.renderToString(source, { displayMode: display, throwOnError: true, strict: "error" });
  },
};

const input = JSON.parse(readFileSync(process.argv[2] ?? 0, "utf8"));
const report = input.map((item) => {
  const { tex, display = true } = typeof item === "string" ? { tex: item } : item;
  const result = {};
  for (const [name, render] of Object.entries(engines)) {
    try {
      render(tex, display);
      result[name] = null;
    } catch (err) {
      result[name] = String(err?.message ?? err);
    }
  }
  return result;
});
process.stdout.write(JSON.stringify(report) + "\n");
