// Work is never thrown away silently: a form marked data-unsaved-warning that has been changed
// asks before the page is left (a link, a reload, closing the tab) unless the page is being left
// by submitting a form. A form htmx submits in place (a "Reveal") leaves the page where it is:
// the other forms' changes still count, and a form htmx saved has nothing left unsaved.
(function () {
  "use strict";
  var changed = new Set();
  var leaving = false;

  function watch(root) {
    root.querySelectorAll("form[data-unsaved-warning]").forEach(function (form) {
      if (form.dataset.unsavedWatched) {
        return;
      }
      form.dataset.unsavedWatched = "yes";
      var mark = function () { changed.add(form); };
      form.addEventListener("input", mark);
      form.addEventListener("change", mark);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { watch(document); });
  // Content htmx swaps in may hold forms to watch too.
  document.addEventListener("htmx:load", function (event) { watch(event.target); });

  // Heard as the event bubbles up, after the form's own listeners: htmx has already prevented
  // the page from being left by a form it submits itself.
  document.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) {
      leaving = true;
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest("form");
    if (event.detail.successful && form) {
      changed.delete(form);
    }
  });

  window.addEventListener("beforeunload", function (event) {
    var unsaved = Array.from(changed).some(function (form) { return form.isConnected; });
    if (leaving || !unsaved) {
      return;
    }
    event.preventDefault();
    // Older browsers show their own sentence; the text is not shown by current ones.
    event.returnValue = "";
  });
})();
