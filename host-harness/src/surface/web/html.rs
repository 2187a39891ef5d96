//! HTML building blocks of the admin page: escaping, the page frame (header, sidebar),
//! and an inline stylesheet and script in the manner of Atlassian's AUI. No build step.

use std::fmt::Write;

/// Escape text for HTML (element content and quoted attributes).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode for a URL path segment or query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A path segment: like [`url_encode`] but `/` is encoded too.
pub fn segment(s: &str) -> String {
    url_encode(s).replace('/', "%2F")
}

/// Unix seconds as admins read them (UTC, said so).
pub fn time(t: i64) -> String {
    crate::surface::report::time(t)
}

/// An AUI lozenge for a run status.
pub fn status_lozenge(status: &str, dry_run: bool) -> String {
    let (class, text) = match status {
        "succeeded" if dry_run => ("current", "Preview ready"),
        "succeeded" => ("success", "Succeeded"),
        "failed" => ("error", "Failed"),
        "running" => ("moved", "Running"),
        other => ("default", other),
    };
    format!(
        r#"<span class="aui-lozenge aui-lozenge-{class}" data-status="{}">{}</span>"#,
        esc(status),
        esc(text)
    )
}

/// What every page knows.
#[derive(Clone, Copy)]
pub struct Frame<'a> {
    /// Product name (Jira, Confluence, Bitbucket, Bamboo).
    pub product: &'a str,
    /// The page's base path.
    pub base: &'a str,
    /// The session's CSRF token, when logged in.
    pub csrf: Option<&'a str>,
}

impl Frame<'_> {
    /// The hidden CSRF field of a form.
    pub fn token_field(&self) -> String {
        format!(
            r#"<input type="hidden" name="{}" value="{}">"#,
            super::auth::CSRF_FIELD,
            esc(self.csrf.unwrap_or_default())
        )
    }

    /// A one-button POST form (with the CSRF field).
    pub fn post_button(&self, action: &str, label: &str, class: &str, extra: &str) -> String {
        format!(
            r#"<form method="post" action="{}" class="inline-form" {extra}>{}<button type="submit" class="aui-button {class}">{}</button></form>"#,
            esc(action),
            self.token_field(),
            esc(label)
        )
    }

    /// The whole page around `body`.
    pub fn page(&self, title: &str, body: &str) -> String {
        let product = esc(self.product);
        let nav = if let Some(token) = self.csrf {
            format!(
                r#"<div class="aui-header-secondary"><span class="user">admin</span>
<form method="post" action="{base}/logout" class="inline-form"><input type="hidden" name="atl_token" value="{token}"><button class="aui-button aui-button-subtle" id="logout">Log out</button></form></div>"#,
                base = esc(self.base),
                token = esc(token)
            )
        } else {
            String::new()
        };
        let sidebar = if self.csrf.is_some() {
            format!(
                r#"<nav class="admin-sidebar" aria-label="Administration">
<h3>User management</h3><ul><li><span class="muted">Users</span></li><li><span class="muted">Groups</span></li><li><span class="muted">User directories</span></li></ul>
<h3>Okta</h3><ul><li class="selected"><a href="{base}">User Sync</a></li></ul></nav>"#,
                base = esc(self.base)
            )
        } else {
            String::new()
        };
        format!(
            r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="atl-token" content="{token}">
<meta name="usersync-base" content="{base}">
<title>{title} - {product}</title>
<style>{CSS}</style></head>
<body>
<header class="aui-header"><div class="aui-header-primary"><span class="aui-header-logo"><span class="logo-mark">&#9670;</span> {product}</span><span class="aui-header-section">Administration</span></div>{nav}</header>
<div class="aui-page-layout">{sidebar}<main class="aui-page-panel">{body}</main></div>
<footer class="aui-footer">User Sync for {product} Data Center &middot; Okta connector</footer>
<script>{JS}</script>
</body></html>"#,
            token = esc(self.csrf.unwrap_or_default()),
            base = esc(self.base),
            title = esc(title),
        )
    }
}

/// The inline stylesheet (AUI's look: colours, buttons, tables, lozenges, forms, tabs,
/// messages, dialogs).
pub const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Oxygen,Ubuntu,"Fira Sans","Droid Sans","Helvetica Neue",sans-serif;font-size:14px;line-height:20px;color:#172B4D;background:#F4F5F7}
a{color:#0052CC;text-decoration:none}a:hover{text-decoration:underline}
h1{font-size:24px;line-height:28px;font-weight:500;margin:0 0 4px}
h2{font-size:18px;font-weight:500;margin:24px 0 8px}
h3{font-size:12px;color:#6B778C;text-transform:uppercase;font-weight:600;margin:16px 0 4px}
code{font-family:"SFMono-Medium","SF Mono",Menlo,Consolas,monospace;font-size:12px;background:#F4F5F7;padding:1px 4px;border-radius:3px}
.aui-header{display:flex;justify-content:space-between;align-items:center;background:#0747A6;color:#fff;height:48px;padding:0 16px}
.aui-header-primary{display:flex;align-items:center;gap:24px}
.aui-header-logo{font-weight:600;font-size:18px}.logo-mark{color:#4C9AFF}
.aui-header-section{color:#DEEBFF}
.aui-header-secondary{display:flex;align-items:center;gap:12px}.aui-header-secondary .user{color:#DEEBFF}
.aui-header .aui-button-subtle{color:#fff;background:transparent}
.aui-page-layout{display:flex;max-width:1400px;margin:0 auto;padding:20px;gap:20px;align-items:flex-start}
.admin-sidebar{width:200px;flex:none;font-size:14px}
.admin-sidebar ul{list-style:none;margin:0 0 8px;padding:0}
.admin-sidebar li{padding:4px 8px;border-radius:3px}
.admin-sidebar li.selected{background:#DEEBFF}.admin-sidebar li.selected a{color:#0747A6;font-weight:600}
.muted{color:#6B778C}
.aui-page-panel{flex:1;min-width:0;background:#fff;border:1px solid #DFE1E6;border-radius:3px;padding:20px 24px 28px}
.aui-page-header{display:flex;justify-content:space-between;align-items:flex-start;margin-bottom:16px}
.aui-page-header p{margin:4px 0 0;color:#5E6C84}
.breadcrumbs{font-size:12px;color:#6B778C;margin-bottom:6px}
.aui-footer{text-align:center;color:#6B778C;font-size:12px;padding:12px 0 24px}
.aui-button{display:inline-block;font:inherit;font-size:14px;line-height:20px;padding:5px 10px;border:0;border-radius:3px;background:rgba(9,30,66,.06);color:#42526E;cursor:pointer;text-decoration:none;white-space:nowrap}
.aui-button:hover{background:rgba(9,30,66,.12);text-decoration:none}
.aui-button-primary{background:#0052CC;color:#fff}.aui-button-primary:hover{background:#0065FF}
.aui-button-link{background:transparent;color:#0052CC;padding:5px 6px}.aui-button-link:hover{background:transparent;text-decoration:underline}
.aui-button-danger{background:transparent;color:#DE350B;padding:5px 6px}.aui-button-danger:hover{background:#FFEBE6}
.aui-button-subtle{background:transparent}
.aui-buttons{display:flex;gap:6px;flex-wrap:wrap;align-items:center}
.inline-form{display:inline;margin:0}
table.aui{border-collapse:collapse;width:100%;margin:8px 0 4px}
table.aui th{text-align:left;color:#5E6C84;font-weight:600;font-size:12px;padding:8px 10px;border-bottom:2px solid #DFE1E6}
table.aui td{padding:8px 10px;border-bottom:1px solid #DFE1E6;vertical-align:middle}
table.aui tr:hover td{background:#FAFBFC}
table.aui td.num,table.aui th.num{text-align:right;font-variant-numeric:tabular-nums}
table.aui .actions{white-space:nowrap}
.aui-lozenge{display:inline-block;font-size:11px;font-weight:700;line-height:16px;text-transform:uppercase;padding:0 4px;border-radius:3px;background:#DFE1E6;color:#42526E}
.aui-lozenge-success{background:#E3FCEF;color:#006644}.aui-lozenge-error{background:#FFEBE6;color:#BF2600}
.aui-lozenge-current{background:#DEEBFF;color:#0747A6}.aui-lozenge-moved{background:#FFF0B3;color:#172B4D}
.aui-message{border-radius:3px;padding:12px 16px;margin:0 0 16px;background:#DEEBFF}
.aui-message-success{background:#E3FCEF}.aui-message-error{background:#FFEBE6}.aui-message-warning{background:#FFFAE6}
.aui-message .title{font-weight:600;display:block}
.tabs-menu{display:flex;gap:4px;list-style:none;margin:0 0 16px;padding:0;border-bottom:2px solid #DFE1E6}
.tabs-menu li{margin-bottom:-2px}
.tabs-menu a{display:block;padding:6px 10px;color:#42526E;font-weight:500;border-bottom:2px solid transparent}
.tabs-menu li.active-tab a{color:#0052CC;border-bottom-color:#0052CC}.tabs-menu a:hover{text-decoration:none;color:#0052CC}
.tabs-pane{display:none}.tabs-pane.active-pane{display:block}
form.aui .field-group{position:relative;padding:6px 0 6px 190px;min-height:40px}
form.aui .field-group>label,form.aui .field-group>.label{position:absolute;left:0;top:11px;width:175px;text-align:right;color:#6B778C;font-weight:600;font-size:13px}
form.aui .required{color:#DE350B}
form.aui input.text,form.aui select{font:inherit;border:2px solid #DFE1E6;background:#FAFBFC;border-radius:3px;padding:4px 7px;width:100%;max-width:380px;height:34px;color:#172B4D}
form.aui input.short{max-width:100px}
form.aui textarea.textarea{font-family:"SFMono-Medium","SF Mono",Menlo,Consolas,monospace;font-size:12px;border:2px solid #DFE1E6;background:#FAFBFC;border-radius:3px;padding:6px 7px;width:100%;max-width:560px;color:#172B4D}
form.aui textarea.textarea:focus{outline:0;border-color:#4C9AFF;background:#fff}
table.aui.counts th{border-bottom:1px solid #DFE1E6;font-size:13px;color:#42526E;font-weight:500}
form.aui input.text:focus,form.aui select:focus{outline:0;border-color:#4C9AFF;background:#fff}
form.aui .description{color:#6B778C;font-size:12px;margin-top:3px;max-width:560px}
form.aui .error{color:#DE350B;font-size:12px;margin-top:3px}
form.aui .checkbox{padding-top:8px}
form.aui .buttons-container{padding:16px 0 0 190px;display:flex;gap:8px}
.schedule-row{display:flex;gap:8px;align-items:center;max-width:560px}
.next-runs{margin:4px 0 0;padding-left:18px;color:#42526E;font-size:13px}
.test-result{margin-left:8px;font-size:13px}
.test-result.ok{color:#006644}.test-result.fail{color:#BF2600}
.type-cards{display:flex;gap:16px;margin-top:12px}
.type-card{display:block;width:240px;border:2px solid #DFE1E6;border-radius:3px;padding:16px;color:#172B4D}
.type-card:hover{border-color:#4C9AFF;text-decoration:none}
.type-card strong{display:block;font-size:16px;margin-bottom:4px}
.aui-blanket{position:fixed;inset:0;background:rgba(9,30,66,.54);display:none;z-index:10}
.aui-dialog2{position:fixed;top:15%;left:50%;transform:translateX(-50%);width:460px;background:#fff;border-radius:3px;box-shadow:0 8px 16px -4px rgba(9,30,66,.25);z-index:11;display:none}
.aui-dialog2.open,.aui-blanket.open{display:block}
.aui-dialog2-header{padding:16px 20px 8px;font-size:18px;font-weight:500}
.aui-dialog2-content{padding:8px 20px}
.aui-dialog2-content .row{display:flex;gap:8px;align-items:center;margin:8px 0}
.aui-dialog2-content select,.aui-dialog2-content input{font:inherit;border:2px solid #DFE1E6;background:#FAFBFC;border-radius:3px;padding:4px 7px;height:34px}
.aui-dialog2-footer{padding:12px 20px 16px;display:flex;justify-content:flex-end;gap:8px}
.counts td.num{font-weight:600;font-size:15px}
.login-box{max-width:420px;margin:40px auto}
.login-box form.aui .field-group{padding-left:0}
.login-box form.aui .field-group>label{position:static;display:block;text-align:left;width:auto;margin-bottom:4px}
.login-box form.aui .buttons-container{padding-left:0}
.log{font-family:"SFMono-Medium","SF Mono",Menlo,Consolas,monospace;font-size:12px}
"#;

/// The inline script: tabs, confirmations, the interval dialog, the next run times of
/// the cron field, and Test connection. Page POSTs from here carry the CSRF header.
pub const JS: &str = r#"
(function(){
  var meta=function(n){var m=document.querySelector('meta[name="'+n+'"]');return m?m.content:'';};
  var csrf=meta('atl-token'), base=meta('usersync-base');
  function showTab(id){
    document.querySelectorAll('.tabs-pane').forEach(function(p){p.classList.toggle('active-pane',p.id===id);});
    document.querySelectorAll('.tabs-menu li').forEach(function(li){li.classList.toggle('active-tab',li.firstElementChild.getAttribute('data-tab')===id);});
    var t=document.querySelector('input[name="tab"]'); if(t) t.value=id;
  }
  document.querySelectorAll('.tabs-menu a[data-tab]').forEach(function(a){
    a.addEventListener('click',function(e){e.preventDefault();showTab(a.getAttribute('data-tab'));});
  });
  document.querySelectorAll('form[data-confirm]').forEach(function(f){
    f.addEventListener('submit',function(e){if(!window.confirm(f.getAttribute('data-confirm'))) e.preventDefault();});
  });
  var sched=document.getElementById('schedule'), list=document.getElementById('next-runs'), timer;
  function refreshRuns(){
    if(!sched||!list) return;
    fetch(base+'/next-runs?schedule='+encodeURIComponent(sched.value),{credentials:'same-origin'})
      .then(function(r){return r.json();}).then(function(j){
        list.innerHTML='';
        if(j.error){var li=document.createElement('li');li.className='error';li.textContent=j.error;list.appendChild(li);return;}
        j.nextRuns.forEach(function(t){var li=document.createElement('li');li.textContent=t;list.appendChild(li);});
      });
  }
  if(sched) sched.addEventListener('input',function(){clearTimeout(timer);timer=setTimeout(refreshRuns,300);});
  var dlg=document.getElementById('interval-dialog'), blanket=document.getElementById('blanket');
  var kind=document.getElementById('interval-kind'), n=document.getElementById('interval-n'), at=document.getElementById('interval-time');
  var choices={minutes:[1,2,3,4,5,6,10,12,15,20,30],hours:[1,2,3,4,6,8,12,24]};
  function fillN(){
    if(!kind) return;
    var k=kind.value; n.style.display=k==='daily'?'none':''; at.style.display=k==='daily'?'':'none';
    document.getElementById('interval-unit').textContent=k==='daily'?'':k;
    if(k==='daily') return;
    var keep=n.value; n.innerHTML='';
    choices[k].forEach(function(v){var o=document.createElement('option');o.value=o.textContent=String(v);n.appendChild(o);});
    n.value=choices[k].indexOf(+keep)>=0?keep:(k==='minutes'?'15':'1');
  }
  function openDialog(open){ if(!dlg) return; dlg.classList.toggle('open',open); blanket.classList.toggle('open',open); }
  if(kind){ kind.addEventListener('change',fillN); fillN(); }
  var setBtn=document.getElementById('set-interval');
  if(setBtn) setBtn.addEventListener('click',function(){openDialog(true);});
  document.querySelectorAll('[data-close-dialog]').forEach(function(b){b.addEventListener('click',function(){openDialog(false);});});
  var apply=document.getElementById('interval-apply');
  if(apply) apply.addEventListener('click',function(){
    var k=kind.value, v=+n.value, cron;
    if(k==='minutes') cron=v===60?'0 0 * * * *':'0 */'+v+' * * * *';
    else if(k==='hours') cron=v===24?'0 0 0 * * *':'0 0 */'+v+' * * *';
    else { var p=(at.value||'02:00').split(':'); cron='0 '+(+p[1])+' '+(+p[0])+' * * *'; }
    sched.value=cron;
    var en=document.getElementById('schedule-enabled'); if(en) en.checked=true;
    openDialog(false); refreshRuns();
  });
  var test=document.getElementById('test-connection');
  if(test) test.addEventListener('click',function(){
    var out=document.getElementById('test-result');
    out.className='test-result'; out.textContent='Testing…';
    fetch(base+'/test',{method:'POST',credentials:'same-origin',headers:{'X-CSRF-Token':csrf},body:new URLSearchParams(new FormData(test.form))})
      .then(function(r){return r.json();}).then(function(j){
        out.className='test-result '+(j.ok?'ok':'fail'); out.textContent=j.message;
      }).catch(function(){out.className='test-result fail';out.textContent='The test could not be run.';});
  });
})();
"#;
