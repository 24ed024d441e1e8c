/* The till: picking a search result and the "spend the most" button post the till like a scan. */
(function () {
  "use strict";
  function till() { return document.getElementById("till"); }
  function post(form) { form.querySelector("button.till-add").click(); }

  document.addEventListener("click", function (event) {
    var form = till();
    if (!form) { return; }
    var product = event.target.closest(".desk-pick");
    if (product && form.contains(product)) {
      form.elements.scan.value = product.dataset.sku;
      post(form);
      return;
    }
    var customer = event.target.closest(".desk-pick-customer");
    if (customer && form.contains(customer)) {
      form.elements.customer.value = customer.dataset.customer;
      post(form);
      return;
    }
    var most = event.target.closest(".till-points-max");
    if (most && form.contains(most)) {
      form.elements.points.value = most.dataset.points;
      post(form);
    }
  });

  // The payment method, the cash given and the cash part change the till: compute it again.
  document.addEventListener("change", function (event) {
    var form = till();
    if (form && form.contains(event.target) && event.target.matches("[name=payment], [name=tendered], [name=cash_amount]")) {
      post(form);
    }
  });

  // A code that found nothing stays in the box, selected: the next scan replaces it.
  function selectRefusedCode() {
    var box = document.querySelector("#id_scan[data-select]");
    if (box) {
      box.focus();
      box.select();
    }
  }
  document.addEventListener("DOMContentLoaded", selectRefusedCode);
  document.addEventListener("htmx:afterSettle", selectRefusedCode);

  // Escape empties the scan box and closes the search results.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target.id === "id_scan") {
      event.target.value = "";
      var results = document.getElementById("till-products");
      if (results) { results.innerHTML = ""; }
    }
  });
})();
