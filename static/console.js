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

// Toasts can be dismissed; a success goes away by itself after a while (unless the pointer
// or focus is on it), an error stays until dismissed.
const SUCCESS_STAYS_MS = 6000;

function enhanceToasts(root) {
  for (const toast of root.querySelectorAll(".toast:not([data-enhanced])")) {
    toast.setAttribute("data-enhanced", "");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => toast.remove());
    toast.append(close);
    if (toast.classList.contains("toast-success")) {
      const hide = () => {
        if (toast.matches(":hover, :focus-within")) setTimeout(hide, SUCCESS_STAYS_MS);
        else toast.remove();
      };
      setTimeout(hide, SUCCESS_STAYS_MS);
    }
  }
}

document.addEventListener("DOMContentLoaded", () => enhanceToasts(document));

// After htmx replaces part of a page, screen readers hear what now describes it
// ([data-swap-focus], e.g. "Showing 26–50 of 400 webhooks"). Focus moves there only if it was
// lost with the replaced content (a pager link); someone typing in the search keeps typing.
document.addEventListener("htmx:afterSettle", (event) => {
  const target = event.detail.target;
  if (!target) return;
  enhanceToasts(document);
  if (target.id === "toasts" || target.hasAttribute("data-live-refresh")) return;
  const focusable = target.matches("[data-swap-focus]") ? target : target.querySelector("[data-swap-focus]");
  if (!focusable) return;
  const active = document.activeElement;
  if (!active || active === document.body || !active.isConnected) focusable.focus();
  const announcer = document.getElementById("announcer");
  if (announcer) announcer.textContent = focusable.textContent.trim();
});

// Copy buttons ([data-copy]) are hidden without JavaScript or a clipboard; the text they
// copy is on the page anyway.
function enableCopyButtons(root) {
  if (!navigator.clipboard) return;
  for (const button of root.querySelectorAll("button[data-copy][hidden]")) button.hidden = false;
}

document.addEventListener("DOMContentLoaded", () => enableCopyButtons(document));
document.addEventListener("htmx:afterSettle", () => enableCopyButtons(document));

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(button.getAttribute("data-copy"));
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed";
  }
  const announcer = document.getElementById("announcer");
  if (announcer) announcer.textContent = button.textContent;
  setTimeout(() => { button.textContent = label; }, 2000);
});
