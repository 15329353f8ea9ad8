/* Datasette's tilde encoding of a primary key in a row URL (datasette.utils.tilde_encode): the one
 * copy for the map pages (static/map/map.js, static/map/ban-do.js). Letters, digits, '_' and '-' stay,
 * a space becomes '+', every other UTF-8 byte '~XX'. */
export function tilde(value) {
  var bytes = new TextEncoder().encode(String(value)), out = "";
  for (var i = 0; i < bytes.length; i++) {
    var b = bytes[i];
    if ((b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 95 || b === 45) out += String.fromCharCode(b);
    else if (b === 32) out += "+";
    else out += "~" + (b < 16 ? "0" : "") + b.toString(16).toUpperCase();
  }
  return out;
}

/* A record's path: a compound key is its parts, each encoded, joined by ','. */
export function rowKey(pk) {
  return Array.isArray(pk) ? pk.map(tilde).join(",") : tilde(pk);
}
