<?php
/**
 * Runs tidings-companion.php under php-cli with stubbed WordPress and a miniature WooCommerce.
 *
 * Usage: php harness.php '<scenario JSON>'   (prints one JSON report on stdout)
 *
 * Scenario keys:
 *   plugin       path of tidings-companion.php
 *   constants    {"TIDINGS_HUB_URL": ..., ...} defined before the plugin loads
 *   options      get_option() values, e.g. {"tidings_hub_url": ...}
 *   user         {"ID", "user_login", "user_email", "first_name", "last_name", "display_name", "locale"}
 *   flow         "reset" | "created" | "created_background" | "unrelated_filters" | "admin"
 *                | "invoice" | "invoice_twice" | "invoice_then_direct" | "resend_new_order"
 *   password_generated  for the created flows
 *   wc_enabled   {"customer_reset_password": bool, "customer_new_account": bool} (default true)
 *   site         shop URL, default https://shop.example
 *   order        for the invoice flows: the order as GET /wc/v3/orders/{id} answers (its id and
 *                billing.email make the WC_Order)
 *   rest         "ok" (default) | "forbidden" (the REST API answers 403) | "unavailable" (WP_Error)
 *   wc_api       "wc_api" (default: WC()->api->get_endpoint_data(), WC 3.7-8.9 and 9.1+)
 *                | "stub_9_0" (WC 9.0: only RestApiUtil from wc_get_container() has it)
 *
 * The stubs follow WordPress/WooCommerce closely where the plugin's result depends on them:
 * hooks run by priority, add_query_arg() does not encode values, get_password_reset_key()
 * makes a fresh key each call and only the newest one stays valid, wp_remote_post() really
 * POSTs over HTTP (PHP streams) and returns a WP_Error when the connection fails.
 */

error_reporting( E_ALL );
$GLOBALS['php_errors'] = array();
set_error_handler(
	function ( $errno, $errstr, $errfile, $errline ) {
		if ( ! ( error_reporting() & $errno ) ) {
			return false; // silenced with @: let PHP keep it for error_get_last().
		}
		$GLOBALS['php_errors'][] = "$errstr at $errfile:$errline";
		return true;
	}
);

$scenario = json_decode( $argv[1], true, 512, JSON_THROW_ON_ERROR );
$site     = isset( $scenario['site'] ) ? $scenario['site'] : 'https://shop.example';

define( 'ABSPATH', __DIR__ . '/' );

$GLOBALS['hooks']        = array();
$GLOBALS['current_hook'] = array();
$GLOBALS['requests']     = array();
$GLOBALS['logs']         = array();
$GLOBALS['issued_keys']  = array();
$GLOBALS['valid_keys']   = array();
$GLOBALS['wc_mails']     = array();
$GLOBALS['rest_calls']   = array();
$GLOBALS['order_notes']  = array();
$GLOBALS['admin']        = array( 'settings' => array(), 'pages' => array() );

// ---- WordPress: hooks ------------------------------------------------------------------------

function add_filter( $hook, $callback, $priority = 10, $accepted_args = 1 ) {
	$GLOBALS['hooks'][ $hook ][ $priority ][] = array( $callback, $accepted_args );
	return true;
}

function add_action( $hook, $callback, $priority = 10, $accepted_args = 1 ) {
	return add_filter( $hook, $callback, $priority, $accepted_args );
}

function apply_filters( $hook, $value, ...$args ) {
	if ( empty( $GLOBALS['hooks'][ $hook ] ) ) {
		return $value;
	}
	$GLOBALS['current_hook'][] = $hook;
	$priorities                = $GLOBALS['hooks'][ $hook ];
	ksort( $priorities );
	foreach ( $priorities as $callbacks ) {
		foreach ( $callbacks as list( $callback, $accepted ) ) {
			$value = call_user_func_array( $callback, array_slice( array_merge( array( $value ), $args ), 0, $accepted ) );
		}
	}
	array_pop( $GLOBALS['current_hook'] );
	return $value;
}

function do_action( $hook, ...$args ) {
	do_action_ref_array( $hook, $args );
}

function do_action_ref_array( $hook, $args ) {
	if ( empty( $GLOBALS['hooks'][ $hook ] ) ) {
		return;
	}
	$GLOBALS['current_hook'][] = $hook;
	$priorities                = $GLOBALS['hooks'][ $hook ];
	ksort( $priorities );
	foreach ( $priorities as $callbacks ) {
		foreach ( $callbacks as list( $callback, $accepted ) ) {
			call_user_func_array( $callback, array_slice( $args, 0, $accepted ) );
		}
	}
	array_pop( $GLOBALS['current_hook'] );
}

function current_filter() {
	return end( $GLOBALS['current_hook'] );
}

// ---- WordPress: users, options, URLs, JSON, HTTP ---------------------------------------------

class WP_User {
	public $ID = 0;
	public $user_login = '';
	public $user_email = '';
	public $first_name = '';
	public $last_name = '';
	public $display_name = '';
	public $locale = '';

	public function __construct( array $fields ) {
		foreach ( $fields as $name => $value ) {
			$this->$name = $value;
		}
	}
}

class WP_Error {
	private $message;

	public function __construct( $code = '', $message = '' ) {
		$this->message = $message;
	}

	public function get_error_message() {
		return $this->message;
	}
}

function is_wp_error( $thing ) {
	return $thing instanceof WP_Error;
}

function harness_user() {
	return new WP_User( $GLOBALS['scenario']['user'] );
}

function get_user_by( $field, $value ) {
	$user = harness_user();
	$map  = array( 'login' => 'user_login', 'id' => 'ID', 'ID' => 'ID', 'email' => 'user_email' );
	return isset( $map[ $field ] ) && (string) $user->{$map[ $field ]} === (string) $value ? $user : false;
}

function get_userdata( $user_id ) {
	return get_user_by( 'id', $user_id );
}

function get_user_locale( $user = 0 ) {
	$user = $user instanceof WP_User ? $user : get_userdata( $user );
	return $user && $user->locale ? $user->locale : 'en_US';
}

function get_option( $name, $default = false ) {
	$options = isset( $GLOBALS['scenario']['options'] ) ? $GLOBALS['scenario']['options'] : array();
	return array_key_exists( $name, $options ) ? $options[ $name ] : $default;
}

function get_password_reset_key( $user ) {
	$key                                = bin2hex( random_bytes( 10 ) );
	$GLOBALS['issued_keys'][]           = $key;
	$GLOBALS['valid_keys'][ $user->ID ] = $key; // WordPress stores one key per user.
	return $key;
}

function add_query_arg( array $args, $url ) {
	// Like WordPress: build_query() without encoding; values are appended as given.
	$pairs = array();
	foreach ( $args as $name => $value ) {
		$pairs[] = $name . '=' . $value;
	}
	return $url . ( false === strpos( $url, '?' ) ? '?' : '&' ) . implode( '&', $pairs );
}

function esc_url_raw( $url ) {
	$url = str_replace( ' ', '%20', trim( (string) $url ) );
	return preg_match( '#^https?://#i', $url ) ? $url : '';
}

function wp_json_encode( $data ) {
	return json_encode( $data );
}

/** As in wp-includes/formatting.php: only &amp; &lt; &gt; and, with ENT_QUOTES, both quotes. */
function wp_specialchars_decode( $text, $quote_style = ENT_NOQUOTES ) {
	$text  = (string) $text;
	$table = array( '&lt;' => '<', '&#060;' => '<', '&gt;' => '>', '&#062;' => '>', '&amp;' => '&', '&#038;' => '&', '&#x26;' => '&' );
	$preg  = array( '/&#0*60;/' => '&#060;', '/&#0*62;/' => '&#062;', '/&#0*38;/' => '&#038;', '/&#x0*26;/i' => '&#x26;' );
	if ( ENT_QUOTES === $quote_style ) {
		$table += array( '&#039;' => "'", '&#x27;' => "'", '&quot;' => '"', '&#034;' => '"', '&#x22;' => '"' );
		$preg  += array( '/&#0*39;/' => '&#039;', '/&#x0*27;/i' => '&#x27;', '/&#0*34;/' => '&#034;', '/&#x0*22;/i' => '&#x22;' );
	}
	return strtr( preg_replace( array_keys( $preg ), array_values( $preg ), $text ), $table );
}

function wp_generate_uuid4() {
	return sprintf(
		'%04x%04x-%04x-%04x-%04x-%04x%04x%04x',
		mt_rand( 0, 0xffff ),
		mt_rand( 0, 0xffff ),
		mt_rand( 0, 0xffff ),
		mt_rand( 0, 0x0fff ) | 0x4000,
		mt_rand( 0, 0x3fff ) | 0x8000,
		mt_rand( 0, 0xffff ),
		mt_rand( 0, 0xffff ),
		mt_rand( 0, 0xffff )
	);
}

function is_email( $email ) {
	return false !== filter_var( $email, FILTER_VALIDATE_EMAIL ) ? $email : false;
}

function wp_remote_post( $url, $args ) {
	$record = $args;
	unset( $record['body'] );
	$GLOBALS['requests'][] = array( 'url' => $url, 'args' => $record );
	$headers               = array();
	foreach ( $args['headers'] as $name => $value ) {
		$headers[] = "$name: $value";
	}
	$context = stream_context_create(
		array(
			'http' => array(
				'method'          => 'POST',
				'header'          => implode( "\r\n", $headers ),
				'content'         => $args['body'],
				'timeout'         => $args['timeout'],
				'ignore_errors'   => true,
				'follow_location' => 0,
			),
		)
	);
	error_clear_last();
	$body = @file_get_contents( $url, false, $context ); // phpcs:ignore
	if ( false === $body || empty( $http_response_header ) ) {
		$last = error_get_last();
		return new WP_Error( 'http_request_failed', $last ? $last['message'] : 'request failed' );
	}
	preg_match( '#^HTTP/\S+\s+(\d{3})#', $http_response_header[0], $status );
	return array(
		'response' => array( 'code' => (int) $status[1], 'message' => '' ),
		'body'     => $body,
	);
}

function wp_remote_retrieve_response_code( $response ) {
	return is_array( $response ) ? $response['response']['code'] : '';
}

function wp_remote_retrieve_body( $response ) {
	return is_array( $response ) ? $response['body'] : '';
}

// ---- WordPress: admin ------------------------------------------------------------------------

function register_setting( $group, $name, $args = array() ) {
	$GLOBALS['admin']['settings'][ $name ] = array( 'group' => $group, 'args' => $args );
}

function add_options_page( $page_title, $menu_title, $capability, $slug, $callback ) {
	$GLOBALS['admin']['pages'][] = compact( 'page_title', 'menu_title', 'capability', 'slug', 'callback' );
	return $slug;
}

function current_user_can( $capability ) {
	return 'manage_options' === $capability;
}

function settings_fields( $group ) {
	echo '<input type="hidden" name="option_page" value="' . esc_attr( $group ) . '">';
}

function submit_button() {
	echo '<input type="submit" class="button button-primary" value="Save Changes">';
}

function esc_attr( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}

function esc_html( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}

function sanitize_text_field( $text ) {
	return trim( preg_replace( '/[\r\n\t ]+/', ' ', strip_tags( (string) $text ) ) );
}

// ---- WooCommerce -----------------------------------------------------------------------------

function wc_get_page_permalink( $page ) {
	return rtrim( $GLOBALS['site'], '/' ) . '/my-account/';
}

function wc_get_endpoint_url( $endpoint, $value = '', $permalink = '' ) {
	return rtrim( $permalink, '/' ) . '/' . $endpoint . '/' . ( '' !== $value ? $value . '/' : '' );
}

function wc_get_account_endpoint_url( $endpoint ) {
	return wc_get_endpoint_url( $endpoint, '', wc_get_page_permalink( 'myaccount' ) );
}

class Harness_Logger {
	public function log( $level, $message, $context = array() ) {
		$GLOBALS['logs'][] = array( 'level' => $level, 'message' => $message, 'context' => $context );
	}
}

function wc_get_logger() {
	static $logger = null;
	return $logger ? $logger : ( $logger = new Harness_Logger() );
}

/** The part of WC_Email the plugin meets: is_enabled() and its filter, as in class-wc-email.php. */
abstract class Harness_WC_Email {
	public $id;
	public $enabled;
	public $object;

	public function __construct() {
		$flags         = isset( $GLOBALS['scenario']['wc_enabled'] ) ? $GLOBALS['scenario']['wc_enabled'] : array();
		$this->enabled = ! array_key_exists( $this->id, $flags ) || $flags[ $this->id ] ? 'yes' : 'no';
	}

	public function is_enabled() {
		return apply_filters( 'woocommerce_email_enabled_' . $this->id, 'yes' === $this->enabled, $this->object, $this );
	}

	protected function record( array $mail ) {
		$GLOBALS['wc_mails'][] = array( 'id' => $this->id, 'sent' => $this->is_enabled() ) + $mail;
	}
}

/** WC_Email_Customer_Reset_Password: trigger() on the action itself, priority 10. */
class Harness_Reset_Password_Email extends Harness_WC_Email {
	public $id = 'customer_reset_password';

	public function __construct() {
		parent::__construct();
		add_action( 'woocommerce_reset_password_notification', array( $this, 'trigger' ), 10, 2 );
	}

	public function trigger( $user_login = '', $reset_key = '' ) {
		$this->object = get_user_by( 'login', $user_login );
		$url          = add_query_arg(
			array( 'key' => $reset_key, 'id' => $this->object->ID, 'login' => rawurlencode( $user_login ) ),
			wc_get_endpoint_url( 'lost-password', '', wc_get_page_permalink( 'myaccount' ) )
		);
		$this->record( array( 'reset_url' => $url ) );
	}
}

/** WC_Email_Customer_New_Account (WC >= 6): the set-password key is made BEFORE is_enabled(). */
class Harness_New_Account_Email extends Harness_WC_Email {
	public $id = 'customer_new_account';
	public $set_password_url;
	public $password_generated;

	public function trigger( $user_id, $user_pass = '', $password_generated = false ) {
		$this->object             = get_userdata( $user_id );
		$this->set_password_url   = sprintf(
			'%s?action=newaccount&key=%s&login=%s',
			wc_get_account_endpoint_url( 'lost-password' ),
			get_password_reset_key( $this->object ),
			rawurlencode( $this->object->user_login )
		);
		$this->password_generated = $password_generated;
		$this->record( array( 'set_password_url' => $this->set_password_url ) );
	}
}

/**
 * WC_Email_Customer_Invoice (a manual email): trigger() never asks is_enabled(); it sends when
 * get_recipient(), the billing email through woocommerce_email_recipient_customer_invoice, is not
 * empty (WC_Email::send_if_recipient(), WC 10.9; `if ( $this->get_recipient() )` before).
 */
class Harness_Customer_Invoice_Email extends Harness_WC_Email {
	public $id = 'customer_invoice';
	public $recipient;

	public function trigger( $order_id, $order = false ) {
		$this->object    = $order;
		$this->recipient = $order->get_billing_email();
		$to              = $this->get_recipient();
		$GLOBALS['wc_mails'][] = array( 'id' => $this->id, 'sent' => '' !== $to, 'to' => $to );
	}

	public function get_recipient() {
		$recipient  = apply_filters( 'woocommerce_email_recipient_' . $this->id, $this->recipient, $this->object, $this );
		$recipients = array_filter( array_map( 'trim', explode( ',', (string) $recipient ) ), 'is_email' );
		return implode( ', ', $recipients );
	}
}

/** The part of WC_Order the flows use. */
class Harness_WC_Order {
	private $data;

	public function __construct( array $data ) {
		$this->data = $data;
	}

	public function get_id() {
		return (int) $this->data['id'];
	}

	public function get_billing_email() {
		return (string) $this->data['billing']['email'];
	}

	public function add_order_note( $note ) {
		$GLOBALS['order_notes'][] = $note;
	}
}

/** rest_do_request() + response_to_data() + the JSON round trip of get_endpoint_data(). */
function harness_endpoint_data( $endpoint ) {
	$GLOBALS['rest_calls'][] = $endpoint;
	$scenario                = $GLOBALS['scenario'];
	$mode                    = isset( $scenario['rest'] ) ? $scenario['rest'] : 'ok';
	if ( 'unavailable' === $mode ) {
		return new WP_Error( 'rest_api_unavailable', 'The Rest API is unavailable.' );
	}
	if ( 'forbidden' === $mode ) {
		$answer = array( 'code' => 'woocommerce_rest_cannot_view', 'message' => 'Sorry, you cannot view this resource.', 'data' => array( 'status' => 403 ) );
	} elseif ( isset( $scenario['order'] ) && '/wc/v3/orders/' . $scenario['order']['id'] === $endpoint ) {
		$answer = $scenario['order'];
	} else {
		$answer = array( 'code' => 'woocommerce_rest_shop_order_invalid_id', 'message' => 'Invalid ID.', 'data' => array( 'status' => 404 ) );
	}
	return json_decode( wp_json_encode( $answer ), true );
}

/** WC_API (WC 3.7-8.9) and LegacyRestApiStub (9.1+): WC()->api->get_endpoint_data(). */
class Harness_WC_API {
	public function get_endpoint_data( $endpoint, $params = array() ) {
		return harness_endpoint_data( $endpoint );
	}
}

/** LegacyRestApiStub of WC 9.0, which lacks get_endpoint_data(). */
class Harness_WC_API_Stub_9_0 {
}

/** Automattic\WooCommerce\Utilities\RestApiUtil (WC 9.0+), what WC_Webhook uses since 9.0. */
class Harness_RestApiUtil {
	public function get_endpoint_data( $endpoint, $params = array() ) {
		return harness_endpoint_data( $endpoint );
	}
}

/** The WooCommerce main object, WC(). */
class Harness_WooCommerce {
	public $api;

	public function __construct() {
		$mode      = isset( $GLOBALS['scenario']['wc_api'] ) ? $GLOBALS['scenario']['wc_api'] : 'wc_api';
		$this->api = 'stub_9_0' === $mode ? new Harness_WC_API_Stub_9_0() : new Harness_WC_API();
	}

	public function mailer() {
		return Harness_WC_Emails::instance();
	}
}

function WC() { // phpcs:ignore WordPress.NamingConventions.ValidFunctionName
	static $wc = null;
	return $wc ? $wc : ( $wc = new Harness_WooCommerce() );
}

if ( isset( $scenario['wc_api'] ) && 'stub_9_0' === $scenario['wc_api'] ) {
	class_alias( 'Harness_RestApiUtil', 'Automattic\\WooCommerce\\Utilities\\RestApiUtil' );

	function wc_get_container() {
		return new class() {
			public function get( $id ) {
				return new $id();
			}
		};
	}
}

/** WC_Emails: the relay of woocommerce_created_customer and the lazily built mailer. */
class Harness_WC_Emails {
	private static $instance;
	public $new_account;
	public $invoice;

	public static function instance() {
		return self::$instance ? self::$instance : ( self::$instance = new self() );
	}

	private function __construct() {
		new Harness_Reset_Password_Email();
		$this->new_account = new Harness_New_Account_Email();
		$this->invoice     = new Harness_Customer_Invoice_Email();
		add_action( 'woocommerce_created_customer_notification', array( $this, 'customer_new_account' ), 10, 3 );
	}

	public static function init_transactional_emails() {
		add_action( 'woocommerce_created_customer', array( __CLASS__, 'send_transactional_email' ), 10, 10 );
	}

	public static function send_transactional_email( ...$args ) {
		self::instance();
		do_action_ref_array( current_filter() . '_notification', $args );
	}

	public function customer_new_account( $customer_id, $new_customer_data = array(), $password_generated = false ) {
		$this->new_account->trigger( $customer_id, '', $password_generated );
	}

	public function customer_invoice( $order ) {
		$this->invoice->trigger( $order->get_id(), $order );
	}
}

/** WC_Meta_Box_Order_Actions::save() for send_order_details (the REST route runs the same). */
function harness_send_order_details( Harness_WC_Order $order ) {
	do_action( 'woocommerce_before_resend_order_emails', $order, 'customer_invoice' );
	WC()->mailer()->customer_invoice( $order );
	$order->add_order_note( 'Order details manually sent to customer.' );
	do_action( 'woocommerce_after_resend_order_email', $order, 'customer_invoice' );
}

// ---- the run ---------------------------------------------------------------------------------

Harness_WC_Emails::init_transactional_emails(); // WooCommerce loads first (plugins load by name).
foreach ( isset( $scenario['constants'] ) ? $scenario['constants'] : array() as $name => $value ) {
	define( $name, $value );
}
require $scenario['plugin'];

$user = harness_user();
$html = null;
switch ( $scenario['flow'] ) {
	case 'reset': // WC_Shortcode_My_Account::retrieve_password().
		$key = get_password_reset_key( $user );
		Harness_WC_Emails::instance(); // WC()->mailer().
		do_action( 'woocommerce_reset_password_notification', $user->user_login, $key );
		break;
	case 'created': // wc_create_new_customer().
		$generated = ! empty( $scenario['password_generated'] );
		do_action( 'woocommerce_created_customer', $user->ID, array( 'user_login' => $user->user_login ), $generated );
		break;
	case 'created_background': // WC_Emails::send_queued_transactional_email() in a later request.
		Harness_WC_Emails::instance();
		do_action_ref_array( 'woocommerce_created_customer_notification', array( $user->ID, array(), ! empty( $scenario['password_generated'] ) ) );
		break;
	case 'unrelated_filters': // e.g. the email list in WooCommerce → Settings → Emails.
		$emails = array(
			'customer_reset_password' => apply_filters( 'woocommerce_email_enabled_customer_reset_password', true, $user, null ),
			'customer_new_account'    => apply_filters( 'woocommerce_email_enabled_customer_new_account', true, $user, null ),
		);
		$GLOBALS['wc_mails'][] = array( 'id' => 'settings_list', 'enabled' => $emails );
		break;
	case 'invoice':
		harness_send_order_details( new Harness_WC_Order( $scenario['order'] ) );
		break;
	case 'invoice_twice': // two clicks on the same order in one request (e.g. two REST calls)
		harness_send_order_details( new Harness_WC_Order( $scenario['order'] ) );
		harness_send_order_details( new Harness_WC_Order( $scenario['order'] ) );
		break;
	case 'invoice_then_direct': // afterwards another plugin mails the invoice itself, no resend hooks
		$order = new Harness_WC_Order( $scenario['order'] );
		harness_send_order_details( $order );
		WC()->mailer()->customer_invoice( $order );
		break;
	case 'resend_new_order': // "Resend new order notification": the admin's copy, not ours
		$order = new Harness_WC_Order( $scenario['order'] );
		do_action( 'woocommerce_before_resend_order_emails', $order, 'new_order' );
		do_action( 'woocommerce_after_resend_order_email', $order, 'new_order' );
		break;
	case 'admin':
		do_action( 'admin_init' );
		do_action( 'admin_menu' );
		ob_start();
		call_user_func( $GLOBALS['admin']['pages'][0]['callback'] );
		$html = ob_get_clean();
		break;
}

$admin = $GLOBALS['admin'];
foreach ( $admin['pages'] as $i => $page ) {
	$admin['pages'][ $i ]['callback'] = is_callable( $page['callback'] );
}
foreach ( $admin['settings'] as $name => $setting ) {
	$sanitize = isset( $setting['args']['sanitize_callback'] ) ? $setting['args']['sanitize_callback'] : null;
	$admin['settings'][ $name ]['empty_input_becomes'] = $sanitize ? call_user_func( $sanitize, '' ) : null;
	unset( $admin['settings'][ $name ]['args']['sanitize_callback'] );
}

echo json_encode(
	array(
		'wc_mails'    => $GLOBALS['wc_mails'],
		'issued_keys' => $GLOBALS['issued_keys'],
		'valid_keys'  => (object) $GLOBALS['valid_keys'],
		'requests'    => $GLOBALS['requests'],
		'rest_calls'  => $GLOBALS['rest_calls'],
		'order_notes' => $GLOBALS['order_notes'],
		'logs'        => $GLOBALS['logs'],
		'admin'       => $admin,
		'html'        => $html,
		'php_errors'  => $GLOBALS['php_errors'],
	),
	JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
);
