// Give every element of the task area a label that stays the same for the whole episode
// (data-lf), and a name hint for form fields whose accessible name is empty because the page
// puts the label text beside them without <label for> (data-lf-name). Returns the canvas:
// the utterance, the visible text of the task area and whether the page ended the episode.
(() => {
  const area = document.getElementById("area") || document.body;
  if (window.__lfNext === undefined || window.__lfEpisode !== WOB_EPISODE_ID) {
    window.__lfNext = 1;
    window.__lfEpisode = WOB_EPISODE_ID;
    document.querySelectorAll("[data-lf]").forEach((el) => el.removeAttribute("data-lf"));
  }
  for (const el of area.querySelectorAll("*")) {
    if (!el.hasAttribute("data-lf")) el.setAttribute("data-lf", String(window.__lfNext++));
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
  return {utterance: query ? query.innerText.trim() : "", text: area.innerText.trim(),
          done: WOB_DONE_GLOBAL};
})()
