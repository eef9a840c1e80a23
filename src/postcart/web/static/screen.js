// Keyboard screening: a key press clicks the control that carries it in data-key, so the
// page's own htmx form does the posting (with its CSRF field) and no rule lives here.
// Keys typed into a field are left alone; Escape leaves the field. After each swap the focus
// returns to the record, so a screen reader reads the next title and the keys keep working.
(function () {
  "use strict";

  var busy = false;

  function typing(target) {
    return target instanceof Element &&
      target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function focusRecord() {
    var record = document.getElementById("record");
    if (record) {
      record.focus({ preventScroll: false });
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") {
        event.target.blur();
        focusRecord();
      }
      return;
    }
    var card = document.getElementById("screen-card");
    if (!card || busy || event.key.length !== 1) {
      return;
    }
    var key = event.key.toLowerCase();
    var controls = card.querySelectorAll("[data-key]");
    for (var i = 0; i < controls.length; i += 1) {
      var control = controls[i];
      if (control.getAttribute("data-key") !== key) {
        continue;
      }
      event.preventDefault();
      var reveal = control.getAttribute("data-reveal");
      if (reveal) {
        var panel = document.getElementById(reveal);
        if (panel) {
          panel.classList.add("chosen");
          var first = panel.querySelector("button");
          if (first) {
            first.focus();
          }
        }
        return;
      }
      control.click();
      return;
    }
  });

  // One vote at a time: a key press is ignored from the request until the next record has
  // settled (htmx has wired its form); a press in between would submit the new form natively
  // and reload the page.
  // aria-busy tells assistive technology (and the browser tests) the card is being replaced.
  function setBusy(value) {
    busy = value;
    var card = document.getElementById("screen-card");
    if (card) {
      card.setAttribute("aria-busy", value ? "true" : "false");
    }
  }
  function ready() { setBusy(false); }
  document.addEventListener("htmx:beforeRequest", function () { setBusy(true); });
  ["htmx:responseError", "htmx:sendError", "htmx:swapError", "htmx:timeout"].forEach(
    function (name) { document.addEventListener(name, ready); }
  );
  document.addEventListener("htmx:afterSettle", function (event) {
    ready();
    if (event.target && event.target.id === "screen-card") {
      focusRecord();
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusRecord);
  } else {
    focusRecord();
  }
})();
