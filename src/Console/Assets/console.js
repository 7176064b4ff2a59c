// Webhooks console: the little that needs script besides htmx. No inline script anywhere (the CSP forbids it).
(function () {
    "use strict";

    // Copy buttons: <button data-copy="text">; says so when done.
    document.addEventListener("click", function (event) {
        var button = event.target.closest("[data-copy]");
        if (!button) { return; }
        event.preventDefault();
        var text = button.getAttribute("data-copy");
        var done = function () {
            var label = button.textContent;
            button.textContent = "Copied";
            setTimeout(function () { button.textContent = label; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(text).then(done);
        } else {
            var field = document.createElement("textarea");
            field.value = text;
            field.setAttribute("readonly", "");
            field.className = "sr-only";
            document.body.appendChild(field);
            field.select();
            document.execCommand("copy");
            document.body.removeChild(field);
            done();
        }
    });

    // Forms that change something hard to undo ask first: <form data-confirm="Delete this key?">.
    document.addEventListener("submit", function (event) {
        var form = event.target.closest("[data-confirm]");
        if (form && !window.confirm(form.getAttribute("data-confirm"))) {
            event.preventDefault();
            event.stopImmediatePropagation();
        }
    }, true);

    // The new-key form shows the chosen type's fields only: <select data-key-type-select> and <fieldset data-key-type>.
    // Hidden fieldsets are disabled too, so their fields are not sent. Without script every type's fields show.
    function showKeyType(select) {
        document.querySelectorAll("fieldset[data-key-type]").forEach(function (fieldset) {
            var chosen = fieldset.getAttribute("data-key-type") === select.value;
            fieldset.hidden = !chosen;
            fieldset.disabled = !chosen;
        });
    }
    document.addEventListener("change", function (event) {
        if (event.target.matches("[data-key-type-select]")) { showKeyType(event.target); }
    });
    document.querySelectorAll("[data-key-type-select]").forEach(showKeyType);

    // A select that picks another page's filter: <select data-navigate> submits its form at once.
    document.addEventListener("change", function (event) {
        if (event.target.matches("[data-submit-on-change]")) {
            event.target.form.requestSubmit();
        }
    });
})();
