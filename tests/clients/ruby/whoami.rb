# Resolves the profile named by AWS_PROFILE through the Ruby SDK v3's default credential chain (so
# through credential_process, which aws-sdk-core runs in backquotes: `/bin/sh -c` on Unix), calls
# STS GetCallerIdentity and prints the caller's ARN. With --version it prints aws-sdk-core's version.
#
# aws-sdk-core 3.168 does not read AWS_ENDPOINT_URL, so the endpoint the test harness names there
# is given to the client explicitly.
require 'aws-sdk-core'

if ARGV.first == '--version'
  puts Aws::CORE_GEM_VERSION
  exit
end

options = {}
options[:endpoint] = ENV['AWS_ENDPOINT_URL'] if ENV['AWS_ENDPOINT_URL']
begin
  puts Aws::STS::Client.new(options).get_caller_identity.arn
rescue StandardError => e
  warn "#{e.class}: #{e.message}"
  exit 1
end
