"""Download forms' materials (資料送付): the email a download form's post sends at once, and the signed, expiring
link in it (and on the thank-you page) that records the download and hands the file over from a private bucket."""
