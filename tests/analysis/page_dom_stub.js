// Runs the script of a visualisation page (argv[2]) against a small stand-in for the DOM and prints,
// as JSON, what it drew: the chosen unit, each character's background, the surprise shading, and the
// hover text of one character (argv[3]); the notes the page shows. For tests/analysis/test_visualize_page.py; needs only node.
const fs = require("fs");
const html = fs.readFileSync(process.argv[2], "utf8");
const data = html.match(/<script id="data" type="application\/json">([\s\S]*?)<\/script>/)[1];
const script = html.match(/<script>\n([\s\S]*?)<\/script>/)[1];
function element(tag) {
  const e = {tag, children: [], style: {}, dataset: {}, listeners: {}, value: "", textContent: "", title: "",
    append(...added) {
      this.children.push(...added);
      if (this.tag === "select" && this.value === "" && added.length) this.value = String(added[0].value);
    },
    addEventListener(name, listener) { this.listeners[name] = listener; }};
  Object.defineProperty(e, "innerHTML", {set() { this.children = []; this.value = ""; }, get() { return ""; }});
  return e;
}
const elements = {};
global.document = {
  getElementById(id) {
    if (!elements[id]) {
      elements[id] = element(["kind", "layer", "unit", "mode"].includes(id) ? "select" : "div");
      if (id === "data") elements[id].textContent = data;
      if (id === "mode") elements[id].value = "unit";
    }
    return elements[id];
  },
  createElement: element,
  createDocumentFragment: () => element("fragment"),
};
// The page's address: "" or what follows "#" in it (argv[4]).
global.location = {hash: process.argv[4] ? "#" + process.argv[4] : ""};
global.addEventListener = () => {};
eval(script);
const spans = elements.text.children[0].children;
const unit = {kind: elements.kind.value, layer: +elements.layer.value, unit: +elements.unit.value,
              background: spans.map(s => s.style.background), ranking_rows: elements.ranking.children.length};
const hovered = +process.argv[3];
elements.text.listeners.mouseover({target: spans[hovered]});
const tip = elements.tip.textContent;
elements.mode.value = "surprise";
elements.mode.onchange();
console.log(JSON.stringify({...unit, characters: spans.map(s => s.textContent).join(""), tip,
                            surprise: spans.map(s => s.style.background), legend: elements.legend.textContent,
                            notes: document.getElementById("notes").children.map(p => p.textContent)}));
