// Give every element of the task area a label that stays the same for the whole episode
// (data-lf), and a name hint for form fields whose accessible name is empty because the page
// puts the label text beside them without <label for> (data-lf-name). Returns the canvas:
// the utterance, the visible text of the task area and whether the page ended the episode.
(() => {
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
  const elements = [area, ...extra].flatMap((root) =>
    [...(root === area ? [] : [root]), ...root.querySelectorAll("*")]);
  for (const el of elements) {
    if (!el.hasAttribute("data-lf")) el.setAttribute("data-lf", String(window.__lfNext++));
    if (!el.hasAttribute("data-lf-name") && !el.textContent.trim() && el.classList.length &&
        !["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) {
      // an icon or a shape with no text: its class says what it is ("reply", "close")
      el.setAttribute("data-lf-name", el.getAttribute("title") ||
                      Array.from(el.classList).join(" ").slice(0, 60));
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
  const query = document.getElementById("query");
  const focused = document.activeElement && document.activeElement.getAttribute("data-lf");
  const hit = window.__lfHit === undefined ? null : window.__lfHit;
  window.__lfHit = undefined;
  return {hit, utterance: query ? query.innerText.trim() : "",
          text: [area, ...extra].map((el) => el.innerText.trim()).join("\n"),
          done: WOB_DONE_GLOBAL, focus: focused || "page"};
})()
