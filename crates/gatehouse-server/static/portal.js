// The portal's only behaviour beyond plain forms: post a SAML response on its own, copy XML,
// filter application tiles as you type, shift-click a tile for administrator mode, and (in the
// console) read a chosen metadata file into the text area the form posts.
(function () {
  var post = document.getElementById("saml-post");
  if (post) { post.submit(); }

  var copy = document.getElementById("copy-xml");
  if (copy) {
    copy.addEventListener("click", function () {
      var area = document.getElementById(copy.getAttribute("data-copy"));
      area.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(area.value); } else { document.execCommand("copy"); }
      copy.textContent = "Copied";
    });
  }

  var search = document.getElementById("search");
  if (search) {
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      document.querySelectorAll(".tile").forEach(function (tile) {
        tile.hidden = q !== "" && tile.getAttribute("data-name").toLowerCase().indexOf(q) < 0;
      });
    });
  }

  document.querySelectorAll("a.app-tile").forEach(function (a) {
    a.addEventListener("click", function (e) {
      if (e.shiftKey) {
        e.preventDefault();
        window.location.href = a.getAttribute("href") + "?admin=1";
      }
    });
  });

  document.querySelectorAll("input[type=file][data-fills]").forEach(function (input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (file) {
        file.text().then(function (text) { document.getElementById(input.getAttribute("data-fills")).value = text; });
      }
    });
  });
})();
