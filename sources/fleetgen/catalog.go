package fleetgen

import "path"

// progID names a program in the catalog below.
type progID uint16

// program is an executable file as an analyst sees it in audit data. The
// kernel reports the resolved binary as exe= (so /bin/sh shows as
// /usr/bin/dash and a Python script as the interpreter), and the name of the
// file that was executed as comm=, cut to 15 bytes.
type program struct {
	exe     string // resolved executable: exe=, process.executable
	path    string // the path handed to execve, when it differs from exe
	shebang string // interpreter line of a script; the kernel runs exe with it
	setuid  bool
}

func (p *program) invoked() string {
	if p.path != "" {
		return p.path
	}
	return p.exe
}

// comm is the process name the kernel gives the new image.
func (p *program) comm() string {
	c := path.Base(p.invoked())
	if len(c) > 15 {
		c = c[:15]
	}
	return c
}

// The hosts are Ubuntu 22.04 (merged /usr); containers are Debian bookworm or
// Alpine images.
const (
	pNone progID = iota
	// everywhere
	pDash
	pBash
	pRunParts
	pLogrotate
	pGzip
	pSystemctl
	pMandb
	pUpdatedb
	pAptDaily
	pAptConfig
	pAptGet
	pAptHTTP
	pUnattended
	pDpkg
	pCheckLoad
	pCheckDisk
	pCheckProcs
	pSshd
	pEnv
	pUname
	pLsbRelease
	pLandscape
	pCat
	pLs
	pGrep
	pLess
	pTail
	pPs
	pDf
	pFree
	pTop
	pID
	pDircolors
	pLesspipe
	pBasename
	pDirname
	pSudo
	pVim
	pJournalctl
	pSs
	pIP
	pDu
	pFind
	pCp
	pMv
	pRm
	pMkdir
	pDate
	pFlock
	pFstrim
	pTmpfiles
	pCmdNotFound
	pSsh
	pScp
	pRsync
	pCurl
	pHostname
	pWhoami
	pW
	pLast
	pNetstat
	pMkfifo
	pNc
	pGit
	pPython
	pCertbot
	pChmod
	pTar
	pSha256
	pWc
	pHead
	pSort
	pStat
	pCronDailyApt
	pCronDailyDpkg
	pCronDailyLogrotate
	pCronDailyManDB
	pRsyslogRotate
	pStartStopDaemon
	pInvokeRcd
	pAptMethodGpgv
	pGpgv
	pMotdNews
	pLn
	pSleep
	pTouch
	pXargs
	pMotdHeader
	pMotdHelp
	pMotdLandscape
	pMotdUpdates
	pLocaleCheck
	// web
	pNginx
	pAppOld
	pAppNew
	pConvert
	pSendmail
	pPostdrop
	// db
	pPerl
	pPgDumpWrap
	pPgDump
	pPsqlWrap
	pPsql
	pPgLsclusters
	pCheckPgsql
	pPgBackup
	// build
	pGitlabRunner
	pGitRemoteHTTPS
	pMake
	pGcc
	pCc1
	pAs
	pCollect2
	pLd
	pGo
	pGoCompile
	pGoLink
	pGoAsm
	pDocker
	pNode
	pNpm
	// bastion
	pTmux
	pSshAgent
	// docker worker
	pRunc
	pShim
	pIptables
	pDockerProxy
	// mail
	pSmtpd
	pCleanup
	pTrivialRewrite
	pSmtp
	pLocal
	pBounce
	pAnvil
	pSpamc
	pPipe
	pImap
	pImapLogin
	pPostqueue
	// monitoring
	pCheckNrpe
	pCheckPing
	pPing
	pCheckHTTP
	pCheckSSH
	// containers
	pCPython
	pGunicorn
	pCelery
	pEntrypointDeb
	pFfmpeg
	pPdftotext
	pBusyboxSh
	pBusyboxWget
	pRedisCli
	pRedisServer
	pEntrypointAlpine
	pPgIsready
	pCNode
	pNginxEntrypoint
	// incidents
	pXxprimef
	pKworker
	pImplant1
	pImplant2
	pImplant3
	numPrograms
)

// programs is the catalog, indexed by progID. It is never modified.
var programs = [numPrograms]program{
	pDash:               {exe: "/usr/bin/dash", path: "/bin/sh"},
	pBash:               {exe: "/usr/bin/bash", path: "/bin/bash"},
	pRunParts:           {exe: "/usr/bin/run-parts"},
	pLogrotate:          {exe: "/usr/sbin/logrotate"},
	pGzip:               {exe: "/usr/bin/gzip", path: "/bin/gzip"},
	pSystemctl:          {exe: "/usr/bin/systemctl"},
	pMandb:              {exe: "/usr/bin/mandb"},
	pUpdatedb:           {exe: "/usr/sbin/updatedb.plocate", path: "/usr/sbin/updatedb"},
	pAptDaily:           {exe: "/usr/bin/dash", path: "/usr/lib/apt/apt.systemd.daily", shebang: "/bin/sh"},
	pAptConfig:          {exe: "/usr/bin/apt-config"},
	pAptGet:             {exe: "/usr/bin/apt-get"},
	pAptHTTP:            {exe: "/usr/lib/apt/methods/http"},
	pUnattended:         {exe: "/usr/bin/python3.10", path: "/usr/bin/unattended-upgrade", shebang: "/usr/bin/python3"},
	pDpkg:               {exe: "/usr/bin/dpkg"},
	pCheckLoad:          {exe: "/usr/lib/nagios/plugins/check_load"},
	pCheckDisk:          {exe: "/usr/lib/nagios/plugins/check_disk"},
	pCheckProcs:         {exe: "/usr/lib/nagios/plugins/check_procs"},
	pSshd:               {exe: "/usr/sbin/sshd"},
	pEnv:                {exe: "/usr/bin/env"},
	pUname:              {exe: "/usr/bin/uname"},
	pLsbRelease:         {exe: "/usr/bin/python3.10", path: "/usr/bin/lsb_release", shebang: "/usr/bin/python3"},
	pLandscape:          {exe: "/usr/bin/python3.10", path: "/usr/bin/landscape-sysinfo", shebang: "/usr/bin/python3"},
	pCat:                {exe: "/usr/bin/cat"},
	pLs:                 {exe: "/usr/bin/ls"},
	pGrep:               {exe: "/usr/bin/grep"},
	pLess:               {exe: "/usr/bin/less"},
	pTail:               {exe: "/usr/bin/tail"},
	pPs:                 {exe: "/usr/bin/ps"},
	pDf:                 {exe: "/usr/bin/df"},
	pFree:               {exe: "/usr/bin/free"},
	pTop:                {exe: "/usr/bin/top"},
	pID:                 {exe: "/usr/bin/id"},
	pDircolors:          {exe: "/usr/bin/dircolors"},
	pLesspipe:           {exe: "/usr/bin/dash", path: "/usr/bin/lesspipe", shebang: "/bin/sh"},
	pBasename:           {exe: "/usr/bin/basename"},
	pDirname:            {exe: "/usr/bin/dirname"},
	pSudo:               {exe: "/usr/bin/sudo", setuid: true},
	pVim:                {exe: "/usr/bin/vim.basic", path: "/usr/bin/vim"},
	pJournalctl:         {exe: "/usr/bin/journalctl"},
	pSs:                 {exe: "/usr/bin/ss"},
	pIP:                 {exe: "/usr/bin/ip"},
	pDu:                 {exe: "/usr/bin/du"},
	pFind:               {exe: "/usr/bin/find"},
	pCp:                 {exe: "/usr/bin/cp"},
	pMv:                 {exe: "/usr/bin/mv"},
	pRm:                 {exe: "/usr/bin/rm"},
	pMkdir:              {exe: "/usr/bin/mkdir"},
	pDate:               {exe: "/usr/bin/date"},
	pFlock:              {exe: "/usr/bin/flock"},
	pFstrim:             {exe: "/usr/sbin/fstrim"},
	pTmpfiles:           {exe: "/usr/bin/systemd-tmpfiles"},
	pCmdNotFound:        {exe: "/usr/bin/python3.10", path: "/usr/lib/command-not-found", shebang: "/usr/bin/python3"},
	pSsh:                {exe: "/usr/bin/ssh"},
	pScp:                {exe: "/usr/bin/scp"},
	pRsync:              {exe: "/usr/bin/rsync"},
	pCurl:               {exe: "/usr/bin/curl"},
	pHostname:           {exe: "/usr/bin/hostname"},
	pWhoami:             {exe: "/usr/bin/whoami"},
	pW:                  {exe: "/usr/bin/w.procps", path: "/usr/bin/w"},
	pLast:               {exe: "/usr/bin/last"},
	pNetstat:            {exe: "/usr/bin/netstat"},
	pMkfifo:             {exe: "/usr/bin/mkfifo"},
	pNc:                 {exe: "/usr/bin/nc.openbsd", path: "/usr/bin/nc"},
	pGit:                {exe: "/usr/bin/git"},
	pPython:             {exe: "/usr/bin/python3.10", path: "/usr/bin/python3"},
	pCertbot:            {exe: "/usr/bin/python3.10", path: "/usr/bin/certbot", shebang: "/usr/bin/python3"},
	pChmod:              {exe: "/usr/bin/chmod"},
	pTar:                {exe: "/usr/bin/tar"},
	pSha256:             {exe: "/usr/bin/sha256sum"},
	pWc:                 {exe: "/usr/bin/wc"},
	pHead:               {exe: "/usr/bin/head"},
	pSort:               {exe: "/usr/bin/sort"},
	pStat:               {exe: "/usr/bin/stat"},
	pCronDailyApt:       {exe: "/usr/bin/dash", path: "/etc/cron.daily/apt-compat", shebang: "/bin/sh"},
	pCronDailyDpkg:      {exe: "/usr/bin/dash", path: "/etc/cron.daily/dpkg", shebang: "/bin/sh"},
	pCronDailyLogrotate: {exe: "/usr/bin/dash", path: "/etc/cron.daily/logrotate", shebang: "/bin/sh"},
	pCronDailyManDB:     {exe: "/usr/bin/dash", path: "/etc/cron.daily/man-db", shebang: "/bin/sh"},
	pRsyslogRotate:      {exe: "/usr/bin/dash", path: "/usr/lib/rsyslog/rsyslog-rotate", shebang: "/bin/sh"},
	pStartStopDaemon:    {exe: "/usr/sbin/start-stop-daemon"},
	pInvokeRcd:          {exe: "/usr/bin/dash", path: "/usr/sbin/invoke-rc.d", shebang: "/bin/sh"},
	pAptMethodGpgv:      {exe: "/usr/lib/apt/methods/gpgv"},
	pGpgv:               {exe: "/usr/bin/gpgv"},
	pMotdNews:           {exe: "/usr/bin/dash", path: "/etc/update-motd.d/50-motd-news", shebang: "/bin/sh"},
	pLn:                 {exe: "/usr/bin/ln"},
	pSleep:              {exe: "/usr/bin/sleep"},
	pTouch:              {exe: "/usr/bin/touch"},
	pXargs:              {exe: "/usr/bin/xargs"},
	pMotdHeader:         {exe: "/usr/bin/dash", path: "/etc/update-motd.d/00-header", shebang: "/bin/sh"},
	pMotdHelp:           {exe: "/usr/bin/dash", path: "/etc/update-motd.d/10-help-text", shebang: "/bin/sh"},
	pMotdLandscape:      {exe: "/usr/bin/dash", path: "/etc/update-motd.d/50-landscape-sysinfo", shebang: "/bin/sh"},
	pMotdUpdates:        {exe: "/usr/bin/dash", path: "/etc/update-motd.d/90-updates-available", shebang: "/bin/sh"},
	pLocaleCheck:        {exe: "/usr/bin/locale-check"},

	pNginx:        {exe: "/usr/sbin/nginx"},
	pAppOld:       {exe: "/opt/app/bin/app-v2.3.7", path: "/opt/app/bin/app"},
	pAppNew:       {exe: "/opt/app/bin/app-v2.4.1", path: "/opt/app/bin/app"},
	pConvert:      {exe: "/usr/bin/convert-im6.q16", path: "/usr/bin/convert"},
	pSendmail:     {exe: "/usr/sbin/sendmail"},
	pPostdrop:     {exe: "/usr/sbin/postdrop"},
	pPerl:         {exe: "/usr/bin/perl"},
	pPgDumpWrap:   {exe: "/usr/bin/perl", path: "/usr/bin/pg_dump", shebang: "/usr/bin/perl"},
	pPgDump:       {exe: "/usr/lib/postgresql/14/bin/pg_dump"},
	pPsqlWrap:     {exe: "/usr/bin/perl", path: "/usr/bin/psql", shebang: "/usr/bin/perl"},
	pPsql:         {exe: "/usr/lib/postgresql/14/bin/psql"},
	pPgLsclusters: {exe: "/usr/bin/perl", path: "/usr/bin/pg_lsclusters", shebang: "/usr/bin/perl"},
	pCheckPgsql:   {exe: "/usr/lib/nagios/plugins/check_pgsql"},
	pPgBackup:     {exe: "/usr/bin/bash", path: "/usr/local/bin/pg-backup.sh", shebang: "/bin/bash"},

	pGitlabRunner:   {exe: "/usr/bin/gitlab-runner"},
	pGitRemoteHTTPS: {exe: "/usr/lib/git-core/git-remote-http", path: "/usr/lib/git-core/git-remote-https"},
	pMake:           {exe: "/usr/bin/make"},
	pGcc:            {exe: "/usr/bin/x86_64-linux-gnu-gcc-11", path: "/usr/bin/gcc"},
	pCc1:            {exe: "/usr/lib/gcc/x86_64-linux-gnu/11/cc1"},
	pAs:             {exe: "/usr/bin/x86_64-linux-gnu-as", path: "/usr/bin/as"},
	pCollect2:       {exe: "/usr/lib/gcc/x86_64-linux-gnu/11/collect2"},
	pLd:             {exe: "/usr/bin/x86_64-linux-gnu-ld.bfd", path: "/usr/bin/ld"},
	pGo:             {exe: "/usr/local/go/bin/go"},
	pGoCompile:      {exe: "/usr/local/go/pkg/tool/linux_amd64/compile"},
	pGoLink:         {exe: "/usr/local/go/pkg/tool/linux_amd64/link"},
	pGoAsm:          {exe: "/usr/local/go/pkg/tool/linux_amd64/asm"},
	pDocker:         {exe: "/usr/bin/docker"},
	pNode:           {exe: "/usr/bin/node"},
	pNpm:            {exe: "/usr/bin/node", path: "/usr/bin/npm", shebang: "/usr/bin/node"},

	pTmux:     {exe: "/usr/bin/tmux"},
	pSshAgent: {exe: "/usr/bin/ssh-agent"},

	pRunc:        {exe: "/usr/sbin/runc"},
	pShim:        {exe: "/usr/bin/containerd-shim-runc-v2"},
	pIptables:    {exe: "/usr/sbin/xtables-nft-multi", path: "/usr/sbin/iptables"},
	pDockerProxy: {exe: "/usr/sbin/docker-proxy"},

	pSmtpd:          {exe: "/usr/lib/postfix/sbin/smtpd"},
	pCleanup:        {exe: "/usr/lib/postfix/sbin/cleanup"},
	pTrivialRewrite: {exe: "/usr/lib/postfix/sbin/trivial-rewrite"},
	pSmtp:           {exe: "/usr/lib/postfix/sbin/smtp"},
	pLocal:          {exe: "/usr/lib/postfix/sbin/local"},
	pBounce:         {exe: "/usr/lib/postfix/sbin/bounce"},
	pAnvil:          {exe: "/usr/lib/postfix/sbin/anvil"},
	pSpamc:          {exe: "/usr/bin/spamc"},
	pPipe:           {exe: "/usr/lib/postfix/sbin/pipe"},
	pImap:           {exe: "/usr/lib/dovecot/imap"},
	pImapLogin:      {exe: "/usr/lib/dovecot/imap-login"},
	pPostqueue:      {exe: "/usr/sbin/postqueue"},

	pCheckNrpe: {exe: "/usr/lib/nagios/plugins/check_nrpe"},
	pCheckPing: {exe: "/usr/lib/nagios/plugins/check_ping"},
	pPing:      {exe: "/usr/bin/ping"},
	pCheckHTTP: {exe: "/usr/lib/nagios/plugins/check_http"},
	pCheckSSH:  {exe: "/usr/lib/nagios/plugins/check_ssh"},

	pCPython:          {exe: "/usr/local/bin/python3.11", path: "/usr/local/bin/python"},
	pGunicorn:         {exe: "/usr/local/bin/python3.11", path: "/usr/local/bin/gunicorn", shebang: "/usr/local/bin/python"},
	pCelery:           {exe: "/usr/local/bin/python3.11", path: "/usr/local/bin/celery", shebang: "/usr/local/bin/python"},
	pEntrypointDeb:    {exe: "/usr/bin/dash", path: "/usr/local/bin/docker-entrypoint.sh", shebang: "/bin/sh"},
	pFfmpeg:           {exe: "/usr/bin/ffmpeg"},
	pPdftotext:        {exe: "/usr/bin/pdftotext"},
	pBusyboxSh:        {exe: "/bin/busybox", path: "/bin/sh"},
	pBusyboxWget:      {exe: "/bin/busybox", path: "/usr/bin/wget"},
	pRedisCli:         {exe: "/usr/local/bin/redis-cli"},
	pRedisServer:      {exe: "/usr/local/bin/redis-server"},
	pEntrypointAlpine: {exe: "/bin/busybox", path: "/usr/local/bin/docker-entrypoint.sh", shebang: "/bin/sh"},
	pPgIsready:        {exe: "/usr/lib/postgresql/16/bin/pg_isready", path: "/usr/local/bin/pg_isready"},
	pCNode:            {exe: "/usr/local/bin/node"},
	pNginxEntrypoint:  {exe: "/usr/bin/dash", path: "/docker-entrypoint.sh", shebang: "/bin/sh"},

	pXxprimef: {exe: "/xxprimef"},
	pKworker:  {exe: "/tmp/.x/kworker"},
	pImplant1: {exe: "/var/tmp/.font-unix/dbus-sync"},
	pImplant2: {exe: "/dev/shm/.cache/sd-helper"},
	pImplant3: {exe: "/usr/local/lib/.updater/kthreadd"},
}

// user is an account in the fleet's passwd. The same uids are used on every
// machine, as configuration management would make them.
type user struct {
	name string
	uid  uint32
	gid  uint32
	home string
}

const unsetID = 4294967295 // auid/ses of processes outside any login session

// baseUsers are the system accounts of every host.
var baseUsers = []user{
	{"root", 0, 0, "/root"},
	{"daemon", 1, 1, "/usr/sbin"},
	{"man", 6, 12, "/var/cache/man"},
	{"www-data", 33, 33, "/var/www"},
	{"nobody", 65534, 65534, "/nonexistent"},
	{"_apt", 105, 65534, "/nonexistent"},
	{"postfix", 108, 114, "/var/spool/postfix"},
	{"nagios", 110, 117, "/var/lib/nagios"},
	{"postgres", 113, 119, "/var/lib/postgresql"},
	{"dovecot", 114, 120, "/usr/lib/dovecot"},
	{"gitlab-runner", 998, 998, "/home/gitlab-runner"},
	{"deploy", 1100, 1100, "/home/deploy"},
	{"backup", 1101, 1101, "/home/backup"},
}

// adminNames are the pool the fleet's administrators are drawn from.
var adminNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
	"ivan", "judy", "kevin", "laura", "mike", "nina", "oscar", "peggy", "quinn", "rupert", "sybil", "trent"}
