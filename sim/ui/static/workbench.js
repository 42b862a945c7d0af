// The ordercycle workbench's only script: every page works without it (plain forms).
// It polls the progress block of a running experiment and sizes the embedded reports.
"use strict";

function pollProgress(block) {
  const url = block.dataset.poll;
  const timer = window.setInterval(async () => {
    let response;
    try {
      response = await fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" });
    } catch (error) {
      return; // the workbench restarting: try again at the next tick
    }
    if (!response.ok) { return; }
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    const fresh = holder.firstElementChild;
    if (!fresh) { return; }
    if (fresh.dataset.state !== "running") {
      window.clearInterval(timer);
      window.location.reload();
      return;
    }
    block.replaceWith(fresh);
    block = fresh;
  }, 1500);
}

function fitFrame(frame) {
  const fit = () => {
    const page = frame.contentDocument && frame.contentDocument.documentElement;
    if (page) { frame.style.height = (page.scrollHeight + 24) + "px"; }
  };
  frame.addEventListener("load", fit);
  if (frame.contentDocument && frame.contentDocument.readyState === "complete") { fit(); }
}

document.addEventListener("DOMContentLoaded", () => {
  const block = document.querySelector("[data-poll]");
  if (block && block.dataset.state === "running") { pollProgress(block); }
  document.querySelectorAll("iframe.report-frame").forEach(fitFrame);
});
