// What every store desk needs around htmx: the CSRF token on its requests, and the cursor back
// in the scan or search box after a part of the page is redrawn (a scanner types into it).
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    var holder = document.querySelector("[data-csrf-token]");
    if (holder) {
      event.detail.headers["X-CSRFToken"] = holder.getAttribute("data-csrf-token");
    }
  });
  function focusScanBox() {
    var box = document.querySelector("[data-desk-autofocus]");
    if (box && document.activeElement === document.body) {
      box.focus();
    }
  }
  document.addEventListener("DOMContentLoaded", focusScanBox);
  document.addEventListener("htmx:afterSettle", focusScanBox);
})();
