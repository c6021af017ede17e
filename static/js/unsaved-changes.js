// Work is never thrown away silently: a form marked data-unsaved-warning that has been changed
// asks before the page is left (a link, a reload, closing the tab) unless it is being submitted.
(function () {
  "use strict";
  var changed = new Set();
  var submitting = false;

  function watch(form) {
    var mark = function () { changed.add(form); };
    form.addEventListener("input", mark);
    form.addEventListener("change", mark);
    form.addEventListener("submit", function () { submitting = true; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-unsaved-warning]").forEach(watch);
    // Any form submitted leaves the page on purpose (a search, another save).
    document.addEventListener("submit", function () { submitting = true; });
  });

  window.addEventListener("beforeunload", function (event) {
    if (submitting || changed.size === 0) {
      return;
    }
    event.preventDefault();
    // Older browsers show their own sentence; the text is not shown by current ones.
    event.returnValue = "";
  });
})();
