// Live parts of the console ([data-live-refresh], polled by htmx) refresh only while someone
// can see them and is not working inside them, and catch up as soon as the tab is shown again.
// One that got an error answer (its webhook was deleted, the user signed out) stops, so the
// error is shown once rather than every few seconds.
document.addEventListener("htmx:beforeRequest", (event) => {
  const region = event.detail.elt;
  if (!region.hasAttribute("data-live-refresh")) return;
  const stopped = region.hasAttribute("data-live-stopped");
  if (stopped || document.hidden || region.contains(document.activeElement)) event.preventDefault();
});

document.addEventListener("htmx:responseError", (event) => {
  const region = event.detail.elt;
  if (region.hasAttribute("data-live-refresh")) region.setAttribute("data-live-stopped", "");
});

document.addEventListener("visibilitychange", () => {
  if (document.hidden || !window.htmx) return;
  for (const region of document.querySelectorAll("[data-live-refresh]")) {
    window.htmx.trigger(region, "refresh");
  }
});
