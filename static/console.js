// Live parts of the console ([data-live-refresh], polled by htmx) refresh only while someone
// can see them and is not working inside them, and catch up as soon as the tab is shown again.
// When the console cannot answer (a 5xx, or no answer at all) refreshes pause and come back by
// themselves, after a wait that doubles each time up to 15 s; the part's status line
// ([data-live-status] naming the part) says so, and says when updates resumed, which also
// clears the outage's toast. Any other error answer (its webhook was deleted, the user signed
// out) stops the part, so the error is shown once rather than every few seconds.
const LIVE_FIRST_WAIT_MS = 2000;
const LIVE_LONGEST_WAIT_MS = 15000;

function liveStatus(region, text) {
  const status = document.querySelector(`[data-live-status="${region.id}"]`);
  if (status) status.textContent = text;
}

function clockTime() {
  return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

document.addEventListener("htmx:beforeRequest", (event) => {
  const region = event.detail.elt;
  if (!region.hasAttribute("data-live-refresh")) return;
  const stopped = region.hasAttribute("data-live-stopped");
  const waiting = Number(region.getAttribute("data-live-retry-at") || 0) > Date.now();
  if (stopped || waiting || document.hidden || region.contains(document.activeElement)) event.preventDefault();
});

function livePause(region) {
  const failures = Number(region.getAttribute("data-live-failures") || 0) + 1;
  const wait = Math.min(LIVE_FIRST_WAIT_MS * 2 ** (failures - 1), LIVE_LONGEST_WAIT_MS);
  region.setAttribute("data-live-failures", String(failures));
  region.setAttribute("data-live-retry-at", String(Date.now() + wait));
  liveStatus(region, `Updates paused at ${clockTime()}: the console cannot answer right now. Trying again by itself.`);
}

document.addEventListener("htmx:responseError", (event) => {
  const region = event.detail.elt;
  if (!region.hasAttribute("data-live-refresh")) return;
  if (event.detail.xhr.status >= 500) {
    livePause(region);
  } else {
    region.setAttribute("data-live-stopped", "");
    liveStatus(region, "Updates stopped. Reload the page to see the latest.");
  }
});

document.addEventListener("htmx:sendError", (event) => {
  const region = event.detail.elt;
  if (region.hasAttribute("data-live-refresh")) livePause(region);
});

// Before the swap: the region is replaced by then, and events on a removed element reach
// nobody.
document.addEventListener("htmx:beforeSwap", (event) => {
  const region = event.detail.elt;
  if (event.detail.xhr.status >= 400) return;
  if (!region.hasAttribute("data-live-refresh") || !region.hasAttribute("data-live-failures")) return;
  for (const toast of document.querySelectorAll("#toasts [data-outage]")) toast.remove();
  liveStatus(region, `Updates resumed at ${clockTime()}; the page updates by itself again.`);
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

// After htmx replaces part of a page, screen readers hear what now describes it
// ([data-swap-focus], e.g. "Showing 26–50 of 400 webhooks"). Focus moves there only if it was
// lost with the replaced content (a pager link), or always for what was just opened (a form
// in place); someone typing in the search keeps typing. An error summary comes first.
document.addEventListener("htmx:afterSettle", (event) => {
  let target = event.detail.target;
  if (!target) return;
  // After an outerHTML swap the target is the element that was replaced; its successor has
  // the same id.
  if (!target.isConnected && target.id) target = document.getElementById(target.id);
  if (!target) return;
  if (target.id === "toasts" || target.hasAttribute("data-live-refresh")) return;
  const focusable = target.querySelector("[data-swap-focus][role=alert]")
    || (target.matches("[data-swap-focus]") ? target : target.querySelector("[data-swap-focus]"));
  if (!focusable) return;
  const active = document.activeElement;
  const lost = !active || active === document.body || !active.isConnected;
  if (lost || focusable.getAttribute("data-swap-focus") === "always") focusable.focus();
  const announcer = document.getElementById("announcer");
  if (announcer) announcer.textContent = focusable.textContent.trim();
});

// Copy buttons ([data-copy]) are hidden without JavaScript or a clipboard; the text they
// copy is on the page anyway.
function enableCopyButtons(root) {
  if (!navigator.clipboard) return;
  for (const button of root.querySelectorAll("button[data-copy][hidden]")) button.hidden = false;
}

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

// The event picker ([data-event-picker]) scales to hundreds of types: a filter as you type,
// "Select all"/"Clear" per group, a live count, "All events" switching the single boxes off,
// and one Tab stop per group (arrow keys move within it). Without JavaScript it is a plain
// list of checkboxes that works the same.
function enhanceEventPicker(picker) {
  if (picker.hasAttribute("data-enhanced")) return;
  picker.setAttribute("data-enhanced", "");
  const all = picker.querySelector("input[value='*']");
  const groups = [...picker.querySelectorAll("[data-event-group]")];
  const boxes = () => [...picker.querySelectorAll("[data-event-group] input[type=checkbox]")];

  const tools = document.createElement("div");
  tools.className = "picker-tools";
  const filter = document.createElement("input");
  filter.type = "search";
  filter.placeholder = "Filter event types";
  filter.setAttribute("aria-label", "Filter event types");
  const count = document.createElement("span");
  count.className = "picker-count";
  count.setAttribute("aria-live", "polite");
  const empty = document.createElement("p");
  empty.className = "picker-empty";
  empty.textContent = "No event type matches.";
  empty.hidden = true;
  tools.append(filter, count);
  picker.querySelector(".event-groups").before(tools);
  picker.querySelector(".event-groups").after(empty);

  const update = () => {
    const allOn = all && all.checked;
    for (const box of boxes()) box.disabled = allOn;
    const selected = boxes().filter((box) => box.checked).length;
    count.textContent = allOn ? "All events selected" : `${selected} selected`;
    for (const group of groups) {
      const visible = [...group.querySelectorAll("input[type=checkbox]")].filter((box) => !box.closest(".choice").hidden);
      visible.forEach((box, index) => { box.tabIndex = index === 0 ? 0 : -1; });
      const toggle = group.querySelector(".group-toggle");
      if (toggle) {
        toggle.disabled = allOn;
        toggle.textContent = visible.length && visible.every((box) => box.checked) ? "Clear" : "Select all";
        // The name starts with the words shown, so speech input finds the button by them.
        const name = group.querySelector(".event-group-name").textContent.trim();
        toggle.setAttribute("aria-label", `${toggle.textContent} ${name} events`);
      }
    }
  };

  for (const group of groups) {
    const name = group.querySelector(".event-group-name");
    const head = document.createElement("div");
    head.className = "event-group-head";
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "group-toggle";
    toggle.addEventListener("click", () => {
      const visible = [...group.querySelectorAll("input[type=checkbox]")].filter((box) => !box.closest(".choice").hidden);
      const on = !visible.every((box) => box.checked);
      for (const box of visible) box.checked = on;
      update();
    });
    name.replaceWith(head);
    head.append(name, toggle);
  }

  filter.addEventListener("input", () => {
    const wanted = filter.value.trim().toLowerCase();
    let shown = 0;
    for (const group of groups) {
      let inGroup = 0;
      for (const choice of group.querySelectorAll(".choice")) {
        const match = !wanted || choice.textContent.toLowerCase().includes(wanted);
        choice.hidden = !match;
        if (match) inGroup += 1;
      }
      group.hidden = inGroup === 0;
      shown += inGroup;
    }
    empty.hidden = shown > 0;
    update();
  });
  // Enter in the filter must not submit the form.
  filter.addEventListener("keydown", (event) => { if (event.key === "Enter") event.preventDefault(); });

  picker.addEventListener("keydown", (event) => {
    if (!["ArrowDown", "ArrowUp"].includes(event.key)) return;
    const box = event.target;
    const group = box.closest && box.closest("[data-event-group]");
    if (!group) return;
    const visible = [...group.querySelectorAll("input[type=checkbox]")].filter((b) => !b.closest(".choice").hidden);
    const next = visible[visible.indexOf(box) + (event.key === "ArrowDown" ? 1 : -1)];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });
  picker.addEventListener("change", update);
  update();
}

// Custom headers ([data-header-rows]): without JavaScript the form has two spare rows, and
// saving brings two more; "Add header" adds one at once, up to 20, its name focused.
function enableAddHeader(root) {
  for (const button of root.querySelectorAll("button[data-add-header]:not([data-enhanced])")) {
    button.setAttribute("data-enhanced", "");
    button.hidden = false;
    button.addEventListener("click", () => {
      const list = button.closest("[data-header-rows]").querySelector(".header-rows");
      const rows = list.querySelectorAll(".header-row");
      if (rows.length >= 20) return;
      const index = rows.length;
      const row = rows[rows.length - 1].cloneNode(true);
      for (const remove of row.querySelectorAll("input[name=header_remove]")) remove.closest("label").remove();
      for (const described of row.querySelectorAll("[id^=header_kept_]")) described.remove();
      for (const input of row.querySelectorAll("input")) {
        if (input.type === "checkbox") {
          input.checked = false;
          input.value = String(index);
        } else {
          input.value = "";
          input.type = "text";
          input.removeAttribute("placeholder");
          input.removeAttribute("aria-describedby");
          input.id = input.name + "_" + index;
        }
      }
      for (const label of row.querySelectorAll("label[for]")) {
        label.htmlFor = label.htmlFor.replace(/_\d+$/, "_" + index);
      }
      for (const number of row.querySelectorAll(".visually-hidden")) {
        number.textContent = number.textContent.replace(/\d+$/, String(index + 1));
      }
      list.append(row);
      row.querySelector("input[name=header_name]").focus();
      if (index + 1 >= 20) button.hidden = true;
    });
  }
}

function enhanceEventPickers(root) {
  for (const picker of root.querySelectorAll("[data-event-picker]")) enhanceEventPicker(picker);
}

// Links to a confirmation page ([data-confirm]) open that page's question in a dialog over
// the current page; its form posts as it would on the page. Without JavaScript (or if the
// page cannot be fetched) the link simply opens the confirmation page.
document.addEventListener("click", async (event) => {
  const link = event.target.closest("a[data-confirm]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  let card;
  try {
    const response = await fetch(link.href, { headers: { Accept: "text/html" } });
    if (!response.ok) throw new Error(String(response.status));
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    card = page.querySelector(".confirm-card");
  } catch {
    card = null;
  }
  if (!card) {
    window.location.href = link.href;
    return;
  }
  const dialog = document.createElement("dialog");
  dialog.className = "confirm-dialog";
  const heading = card.querySelector("h1");
  heading.id = "confirm-dialog-heading";
  dialog.setAttribute("aria-labelledby", heading.id);
  dialog.append(document.importNode(card, true));
  dialog.querySelector("h1").outerHTML = `<h2 id="${heading.id}">${heading.innerHTML}</h2>`;
  for (const cancel of dialog.querySelectorAll(".confirm-card a.button")) {
    cancel.addEventListener("click", (e) => {
      e.preventDefault();
      dialog.close();
    });
  }
  dialog.addEventListener("close", () => {
    dialog.remove();
    link.focus();
  });
  // The dialog opens on Cancel, the choice that changes nothing, so Enter cannot confirm by
  // accident.
  const cancel = dialog.querySelector(".confirm-card a.button");
  if (cancel) cancel.setAttribute("autofocus", "");
  document.body.append(dialog);
  dialog.showModal();
});

// What scripts add to the page (dismiss and copy buttons, the event picker's tools), added
// again to whatever htmx brings in; each piece marks what it has done, so nothing doubles.
// A live part's status line says it updates by itself only where it does: with JavaScript.
function showLiveStatus(root) {
  for (const status of root.querySelectorAll("[data-live-status][hidden]")) status.hidden = false;
}

function enhance(root) {
  enhanceToasts(root);
  showLiveStatus(root);
  enableCopyButtons(root);
  enableAddHeader(root);
  enhanceEventPickers(root);
}

document.addEventListener("DOMContentLoaded", () => enhance(document));
document.addEventListener("htmx:afterSettle", () => enhance(document));
