// Live parts of the console ([data-live-refresh], polled by htmx) refresh only while someone
// can see them and is not working inside them, and catch up as soon as the tab is shown again.
document.addEventListener("htmx:beforeRequest", (event) => {
  const region = event.detail.elt;
  if (!region.hasAttribute("data-live-refresh")) return;
  if (document.hidden || region.contains(document.activeElement)) event.preventDefault();
});

document.addEventListener("visibilitychange", () => {
  if (document.hidden || !window.htmx) return;
  for (const region of document.querySelectorAll("[data-live-refresh]")) {
    window.htmx.trigger(region, "refresh");
  }
});
