// Command whoami-go-v2 resolves the profile named by AWS_PROFILE through the AWS SDK for Go v2's
// config.LoadDefaultConfig (so through credential_process), calls STS GetCallerIdentity and prints
// the caller's ARN. With -version it prints the SDK version instead.
//
// aws-sdk-go-v2 1.17 does not read AWS_ENDPOINT_URL, so the endpoint the test harness names there
// is given to the config loader explicitly.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(aws.SDKVersion)
		return
	}
	ctx := context.Background()
	var options []func(*config.LoadOptions) error
	if endpoint := os.Getenv("AWS_ENDPOINT_URL"); endpoint != "" {
		resolver := aws.EndpointResolverWithOptionsFunc(
			func(service, region string, _ ...interface{}) (aws.Endpoint, error) {
				return aws.Endpoint{URL: endpoint, SigningRegion: region}, nil
			})
		options = append(options, config.WithEndpointResolverWithOptions(resolver))
	}
	cfg, err := config.LoadDefaultConfig(ctx, options...)
	if err != nil {
		fail(err)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fail(err)
	}
	fmt.Println(aws.ToString(out.Arn))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
