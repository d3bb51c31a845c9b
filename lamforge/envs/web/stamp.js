// Give every element of the task area a label that stays the same for the whole episode
// (data-lf), and a name hint for form fields whose accessible name is empty because the page
// puts the label text beside them without <label for> (data-lf-name). Returns the canvas:
// the utterance, the visible text of the task area and whether the page ended the episode.
(() => {
  // a colour as words: its CSS keyword when it is one, else its hue's family ("red" for
  // any shade of red), so an utterance's swatch and the boxes it names read the same
  const colourName = window.__lfColour || (window.__lfColour = (css) => {
    const m = /rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/.exec(css || "");
    if (!m || (m[4] !== undefined && Number(m[4]) < 0.1)) return "";
    const [r, g, b] = [m[1], m[2], m[3]].map(Number);
    const keywords = {red: [255, 0, 0], green: [0, 128, 0], lime: [0, 255, 0],
      blue: [0, 0, 255], yellow: [255, 255, 0], "aqua cyan": [0, 255, 255],
      magenta: [255, 0, 255], gold: [255, 215, 0],
      black: [0, 0, 0], white: [255, 255, 255], grey: [128, 128, 128],
      silver: [192, 192, 192], maroon: [128, 0, 0], olive: [128, 128, 0],
      purple: [128, 0, 128], teal: [0, 128, 128], navy: [0, 0, 128], orange: [255, 165, 0],
      pink: [255, 192, 203], brown: [165, 42, 42]};
    for (const [name, [kr, kg, kb]] of Object.entries(keywords)) {
      if (Math.abs(r - kr) + Math.abs(g - kg) + Math.abs(b - kb) <= 6) return name;
    }
    const max = Math.max(r, g, b) / 255, min = Math.min(r, g, b) / 255;
    const l = (max + min) / 2, d = max - min;
    const s = d === 0 ? 0 : d / (1 - Math.abs(2 * l - 1));
    if (s < 0.12 || d < 0.04) return l < 0.2 ? "black" : l > 0.85 ? "white" : "grey";
    let h = max === r / 255 ? ((g - b) / 255 / d) % 6 : max === g / 255 ?
      (b - r) / 255 / d + 2 : (r - g) / 255 / d + 4;
    h = (h * 60 + 360) % 360;
    const families = [[15, "red"], [45, "orange"], [70, "yellow"], [165, "green"],
      [195, "cyan"], [260, "blue"], [290, "purple"], [345, "magenta"], [361, "red"]];
    return families.find(([top]) => h < top)[1];
  });
  // a textless element whose look is what tells it apart (a colour box, a shape): its
  // colour, for a thing of a box's size (a coloured panel or the page is not one)
  const swatch = (el) => {
    if (el.textContent.trim() || ["INPUT", "TEXTAREA", "SELECT", "BODY"].includes(el.tagName))
      return "";
    const box = el.getBoundingClientRect();
    if (box.width < 4 || box.height < 4 || box.width > 200 || box.height > 200) return "";
    const style = getComputedStyle(el);
    return colourName(el instanceof SVGElement ? style.fill : style.backgroundColor);
  };
  // an SVG shape's kind and, where the shapes of one drawing differ in size, whether it is
  // one of the large or the small ones: how a user names it ("a large red circle")
  const shapeOf = (el) => {
    if (!(el instanceof SVGGraphicsElement) || el instanceof SVGSVGElement) return ["", ""];
    const tag = el.tagName.toLowerCase();
    const points = tag === "polygon" ? el.points.numberOfItems : 0;
    const kind = {circle: "circle", ellipse: "circle", rect: "rectangle"}[tag] ||
      (points === 3 ? "triangle" : points ? "polygon" : "");
    if (!kind || !el.ownerSVGElement) return ["", kind];
    const span = (e) => {
      const b = e.getBoundingClientRect();
      return Math.max(b.width, b.height);
    };
    const sizes = Array.from(el.ownerSVGElement.querySelectorAll(
      "circle, ellipse, rect, polygon")).map(span);
    const lo = Math.min(...sizes), hi = Math.max(...sizes);
    return [hi - lo > 2 ? (span(el) >= (lo + hi) / 2 ? "large" : "small") : "", kind];
  };
  const area = document.getElementById("area") || document.body;
  // the task area, and what a page puts beside it on the body (a jQuery UI dialog, a
  // date picker), but not the instruction or MiniWoB's own displays
  const extra = Array.from(document.body.children).filter(window.__lfShownBeside ||
    (window.__lfShownBeside = (el) => {
      // shown with a size (a fixed overlay too), and not a screen-reader-only live region
      if (["wrap", "reward-display", "sync-task-cover", "click-canvas"].includes(el.id) ||
          el.classList.contains("ui-helper-hidden-accessible")) return false;
      const r = el.getBoundingClientRect();
      return el.getClientRects().length > 0 && r.width > 2 && r.height > 2 &&
        getComputedStyle(el).visibility !== "hidden";
    }));
  if (window.__lfNext === undefined || window.__lfEpisode !== WOB_EPISODE_ID) {
    window.__lfNext = 1;
    window.__lfEpisode = WOB_EPISODE_ID;
    document.querySelectorAll("[data-lf]").forEach((el) => {
      el.removeAttribute("data-lf");
      el.removeAttribute("data-lf-name");  // a hint of the last episode may be stale
    });
  }
  const STATES = ["selected", "active", "checked", "highlighted"];
  const elements = [area, ...extra].flatMap((root) =>
    [...(root === area ? [] : [root]), ...root.querySelectorAll("*")]);
  for (const el of elements) {
    if (!el.hasAttribute("data-lf")) el.setAttribute("data-lf", String(window.__lfNext++));
    if (!el.hasAttribute("data-lf-name") && !el.textContent.trim() &&
        !["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) {
      // an icon or a shape with no text: its colour and class say what it is ("reply",
      // "close", "red color"); a coloured one is shown even where the page gives it no role.
      // Its id too, as a model reading the page's HTML reads it (a grid's points are told
      // apart by theirs alone: "(1,-2)")
      const colour = swatch(el);
      const [size, kind] = colour ? shapeOf(el) : ["", ""];
      const hint = el.getAttribute("title") || [size, colour, kind, el.id, ...Array.from(
        el.classList).filter((c) => !STATES.includes(c))].join(" ").replace(/\s+/g, " ")
        .trim().slice(0, 60);
      if (hint) el.setAttribute("data-lf-name", hint);
      if (colour) el.setAttribute("data-lf-swatch", "");
    }
    // a calendar's day (jQuery UI's date picker keeps the month and year of each day on its
    // cell): its whole date, as a US form writes it, so a day of the month the instruction
    // names reads apart from the same day of the month shown before it
    const day = el.childElementCount <= 1 ? el.textContent.trim() : "";
    const month = /^\d{1,2}$/.test(day) && el.closest("[data-year][data-month]");
    if (month && !el.querySelector("[data-year]")) {
      const mm = String(Number(month.dataset.month) + 1).padStart(2, "0");
      el.setAttribute("data-lf-date", `${mm}/${day.padStart(2, "0")}/${month.dataset.year}`);
    }
    // what the page lets a user drag (HTML's draggable, jQuery UI's draggable and sortable)
    if (el.getAttribute("draggable") === "true" || Array.from(el.classList).some(
        (c) => /^ui-(draggable|sortable-handle)$/.test(c))) {
      el.setAttribute("data-lf-drag", "");
      if (!el.hasAttribute("data-lf-name")) {  // named by its text (a list item's name)
        el.setAttribute("data-lf-name", el.textContent.trim().slice(0, 60));
      }
    }
    // a page that marks a choice by a class ("selected", "active") says its state there
    if (Array.from(el.classList).some((c) => STATES.includes(c))) {
      el.setAttribute("data-lf-state", "selected");
    } else {
      el.removeAttribute("data-lf-state");
    }
    if (["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName) && !el.hasAttribute("data-lf-name")) {
      let hint = el.getAttribute("placeholder") || el.getAttribute("aria-label") || "";
      if (!hint) {  // a label-like element just before it (not another control)
        let prev = el.previousElementSibling;
        while (prev && !prev.textContent.trim()) prev = prev.previousElementSibling;
        if (prev && ["LABEL", "SPAN", "DIV", "P", "B", "STRONG", "TD", "TH"].includes(prev.tagName)
            && !prev.querySelector("button, input, select, textarea")) {
          hint = prev.textContent.trim();
        }
      }
      el.setAttribute("data-lf-name", (hint || el.id || el.name || "").slice(0, 60));
    }
  }
  // what can be scrolled (a list, a text area, the page), and how far it is: a scroll is a
  // move only if the observation shows where it left things
  const scrolls = elements.filter((el) => el.scrollHeight > el.clientHeight + 4 &&
    /(auto|scroll)/.test(getComputedStyle(el).overflowY) && el.getClientRects().length)
    .map((el) => [el.getAttribute("data-lf"), Math.round(el.scrollTop),
                  el.scrollHeight - el.clientHeight, el.clientHeight]);
  const page = document.scrollingElement;
  if (page && page.scrollHeight > window.innerHeight + 4) {
    scrolls.push(["page", Math.round(page.scrollTop), page.scrollHeight - window.innerHeight,
                  window.innerHeight]);
  }
  const query = document.getElementById("query");
  // the instruction's swatches in words ("Click on the [red box] colored box")
  const said = (el) => Array.from(el.childNodes).map((n) => n.nodeType === Node.TEXT_NODE ?
    n.textContent : n.nodeType !== Node.ELEMENT_NODE ? "" : swatch(n) && !n.textContent.trim() ?
    swatch(n) : said(n)).join("");
  const focused = document.activeElement && document.activeElement.getAttribute("data-lf");
  const hit = window.__lfHit === undefined ? null : window.__lfHit;
  window.__lfHit = undefined;
  return {hit, scrolls, utterance: query ? (Array.from(query.querySelectorAll("*")).some(
    (el) => !el.textContent.trim()) ? said(query)
    .replace(/\s+/g, " ") : query.innerText).trim() : "",
          text: [area, ...extra].map((el) => el.innerText.trim()).join("\n"),
          done: WOB_DONE_GLOBAL, focus: focused || "page"};
})()
